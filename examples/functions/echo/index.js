// JSON in, JSON out, with the Workers / `deno serve` handler form.
//   curl -X POST localhost:9000/echo -H 'content-type: application/json' -d '{"name":"edgefn"}'

export default {
  async fetch(request, env, ctx) {
    if (request.method !== "POST") {
      return Response.json({ error: "POST a JSON body to this function" }, { status: 405 });
    }
    let received;
    try {
      received = await request.json();
    } catch (error) {
      return Response.json({ error: `invalid JSON: ${error.message}` }, { status: 400 });
    }
    return Response.json({
      received,
      method: request.method,
      contentType: request.headers.get("content-type"),
      at: new Date().toISOString(),
    });
  },
};
