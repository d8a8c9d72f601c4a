/**
 * The Content-Type a file is served with, decided from its path once, when
 * a deploy lists it, and stored with the file.
 */

/** Types served with an explicit UTF-8 charset. */
const TEXTUAL = /^(text\/|application\/(javascript|json|xml|manifest\+json|ld\+json)|image\/svg\+xml)/;

export async function contentTypeFor(path: string): Promise<string> {
  // Imported on first use: the bundler is large and most requests never
  // need it.
  const { inferContentType } = await import("@cloudflare/worker-bundler");
  const type = inferContentType(path) ?? "application/octet-stream";
  return TEXTUAL.test(type) && !type.includes("charset") ? `${type}; charset=utf-8` : type;
}
