// Scenario 5: a CPU-bound kernel. Counts the primes below 100,000 with a sieve on every request.
function countPrimes(limit) {
  const composite = new Uint8Array(limit);
  let count = 0;
  for (let i = 2; i < limit; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j < limit; j += i) composite[j] = 1;
  }
  return count;
}

export default {
  fetch() {
    return new Response(String(countPrimes(100_000)));
  },
};
