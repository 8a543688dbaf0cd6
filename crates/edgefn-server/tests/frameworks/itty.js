// An itty-router app (Cloudflare Workers style), bundled by esbuild.
import { AutoRouter, error, json } from "itty-router";

const router = AutoRouter({ base: "/itty" });

router
  .get("/hello/:name", ({ params, query }) => ({ hello: params.name, q: query.q ?? null }))
  .post("/echo", async (request) => json({ received: await request.json() }, { status: 201 }))
  .get("/stream", () =>
    new Response(
      new ReadableStream({
        start(controller) {
          for (const part of ["x", "y", "z"]) controller.enqueue(new TextEncoder().encode(part));
          controller.close();
        },
      }),
    ),
  )
  .get("/teapot", () => error(418, "short and stout"))
  .get("/crash", () => {
    throw new Error("itty route failed");
  });

export default { ...router };
