// Scenario 4: a JSON round trip. Parses the ~10 KB body, transforms every item, serialises.
export default {
  async fetch(request) {
    const { items } = await request.json();
    const out = items.map((item) => ({
      id: item.id,
      name: item.name.toUpperCase(),
      total: Math.round(item.price * item.quantity * 100) / 100,
      tags: item.tags.filter((tag) => tag !== "b"),
    }));
    return Response.json({ count: out.length, items: out });
  },
};
