// A Hono app as users write it for Deno or Cloudflare Workers, bundled by esbuild.
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { HTTPException } from "hono/http-exception";

const app = new Hono().basePath("/hono");

app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name"), q: c.req.query("q") ?? null }));
app.post("/echo", async (c) => c.json({ received: await c.req.json() }, 201));
app.get("/stream", (c) =>
  stream(c, async (s) => {
    for (const part of ["a", "b", "c"]) await s.write(part);
  }),
);
app.get("/teapot", () => {
  throw new HTTPException(418, { message: "short and stout" });
});
app.get("/crash", () => {
  throw new Error("hono route failed");
});
app.onError((err, c) => {
  if (err instanceof HTTPException) return err.getResponse();
  return c.json({ error: err.message }, 500);
});
app.notFound((c) => c.json({ error: "no such route" }, 404));

export default app;
