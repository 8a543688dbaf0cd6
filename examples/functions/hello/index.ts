// The smallest function: TypeScript, served with Deno.serve (Supabase style).

interface Greeting {
  message: string;
}

Deno.serve((req: Request): Response => {
  const name = new URL(req.url).searchParams.get("name") ?? "world";
  const greeting: Greeting = { message: `Hello, ${name}!` };
  return new Response(greeting.message + "\n", {
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
});
