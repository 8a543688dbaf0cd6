// A streamed response: one line every 100 ms, sent as it is produced (chunked encoding).
//   curl -N localhost:9000/stream?lines=5

Deno.serve((req: Request): Response => {
  const lines = Number(new URL(req.url).searchParams.get("lines") ?? "5");
  const encoder = new TextEncoder();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === lines) {
        controller.close();
        return;
      }
      if (sent > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      sent += 1;
      controller.enqueue(encoder.encode(`line ${sent} of ${lines}\n`));
    },
  });
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
});
