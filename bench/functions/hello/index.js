// Scenario 1: the smallest handler, in the module form edgefn, `deno serve` and workerd all run.
export default {
  fetch() {
    return new Response("Hello, world!\n", {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },
};
