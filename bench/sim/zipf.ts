/** A sampler of 0 … n-1 by Zipf's law with exponent `s`: rank 0 the most likely. */
export function zipf(n: number, s: number, random: () => number = Math.random): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k += 1) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((cdf[mid] ?? 0) < target) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  };
}
