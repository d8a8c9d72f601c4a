/**
 * A Bloom filter of names: compact enough for every serving isolate to
 * hold at any tenant count, so that a host naming no project is answered
 * without starting a Durable Object. It never says "absent" of a name it
 * holds; it may say "perhaps" of one it does not (at about FALSE_POSITIVE_RATE).
 * Pure.
 */

/** The share of absent names it answers "perhaps" for, by design. */
export const FALSE_POSITIVE_RATE = 0.001;

export interface BloomFilter {
  /** The filter's bits, `bits.length * 8` of them. */
  bits: Uint8Array;
  /** How many bits each name sets. */
  hashes: number;
}

/** A filter holding `names`, sized for `rate` false positives at its count. */
export function buildBloom(names: Iterable<string>, rate: number = FALSE_POSITIVE_RATE): BloomFilter {
  const list = [...names];
  const count = Math.max(list.length, 1);
  const bitCount = Math.max(64, Math.ceil((-count * Math.log(rate)) / Math.LN2 ** 2));
  const hashes = Math.max(1, Math.round((bitCount / count) * Math.LN2));
  const filter: BloomFilter = { bits: new Uint8Array(Math.ceil(bitCount / 8)), hashes };
  for (const name of list) {
    for (const bit of bitsOf(filter, name)) {
      filter.bits[bit >>> 3] = (filter.bits[bit >>> 3] ?? 0) | (1 << (bit & 7));
    }
  }
  return filter;
}

/** False only if `name` was not among the names the filter was built from. */
export function mayContain(filter: BloomFilter, name: string): boolean {
  for (const bit of bitsOf(filter, name)) {
    if (((filter.bits[bit >>> 3] ?? 0) & (1 << (bit & 7))) === 0) {
      return false;
    }
  }
  return true;
}

/** The bits a name sets: double hashing over two 32-bit FNV-1a variants. */
function* bitsOf(filter: BloomFilter, name: string): Generator<number> {
  const bitCount = filter.bits.length * 8;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < name.length; i += 1) {
    const code = name.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ code, 0x5bd1e995) >>> 0;
  }
  h2 = (h2 ^ (h2 >>> 15)) | 1;
  for (let i = 0; i < filter.hashes; i += 1) {
    yield ((h1 + Math.imul(i, h2)) >>> 0) % bitCount;
  }
}
