// The noisy tenant: every request burns about 20 ms of CPU in a tight loop.
export default {
  fetch() {
    const end = performance.now() + 20;
    let spins = 0;
    while (performance.now() < end) spins++;
    return new Response(String(spins));
  },
};
