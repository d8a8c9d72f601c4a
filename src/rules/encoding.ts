/**
 * Precompressed representations: which content codings a deploy stores
 * beside a file, and which one a request gets (proactive negotiation on
 * Accept-Encoding, RFC 9110 §12.5.3). Pure.
 */

/** Content codings a deploy may store, in the platform's order of preference (smallest first). */
export const ENCODINGS = ["br", "zstd", "gzip"] as const;
export type Encoding = (typeof ENCODINGS)[number];

export function isEncoding(value: string): value is Encoding {
  return (ENCODINGS as readonly string[]).includes(value);
}

/** The weight of identity when Accept-Encoding names neither it nor `*`: below any q-value a client can write. */
const IDENTITY_BY_DEFAULT = 0.0001;

/**
 * The manifest path a file's variant is stored under: `br:/app.js`. No
 * file's path has this form (they all start with `/`), and the variant
 * shares its file's page of the snapshot (see src/shared/snapshot.ts).
 */
export function variantPath(encoding: Encoding, path: string): string {
  return `${encoding}:${path}`;
}

/**
 * The representation to send, of those `available` beside identity: the
 * one with the highest q-value in `header`, the platform's preference
 * (br, zstd, gzip, identity) breaking ties; `*` weighs what is not named,
 * identity included. Without the header, identity. Identity not named
 * (nor `*`) is acceptable, below any coding the client accepts. Null when
 * nothing available is acceptable (`identity;q=0`, or `*;q=0`, and no
 * stored coding accepted): the platform then answers 406 Not Acceptable.
 */
export function negotiate(header: string | null, available: readonly Encoding[]): Encoding | "identity" | null {
  if (header === null) {
    return "identity";
  }
  const weights = new Map<string, number>();
  for (const item of header.split(",")) {
    const [name = "", ...params] = item.split(";").map((part) => part.trim());
    if (name === "") {
      continue;
    }
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i.exec(param);
      if (match) {
        q = Number(match[1]);
      } else if (/^q\s*=/i.test(param)) {
        // A malformed weight makes the coding unacceptable rather than preferred.
        q = 0;
      }
    }
    weights.set(name.toLowerCase(), Math.max(q, weights.get(name.toLowerCase()) ?? 0));
  }
  const star = weights.get("*");
  // Identity not named is acceptable (unless `*;q=0`), but after any coding the client accepts.
  const weightOf = (coding: string): number =>
    weights.get(coding) ?? star ?? (coding === "identity" ? IDENTITY_BY_DEFAULT : 0);
  let best: Encoding | "identity" | null = null;
  let bestWeight = 0;
  for (const coding of [...ENCODINGS.filter((encoding) => available.includes(encoding)), "identity" as const]) {
    const weight = weightOf(coding);
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }
  return best;
}
