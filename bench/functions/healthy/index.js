// The healthy tenant of the noisy-neighbour benchmark.
export default { fetch: () => new Response("ok") };
