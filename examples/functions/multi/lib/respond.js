export function json(value, status = 200) {
  return Response.json(value, { status });
}

export function notFound(message) {
  return json({ error: "NotFound", message }, 404);
}
