/**
 * The Content-Type a file is served with, decided from its path by
 * `inferContentType` of @cloudflare/worker-bundler when the CLI lists it,
 * with an explicit UTF-8 charset for text.
 */
import { inferContentType } from "@cloudflare/worker-bundler";
import { DEFAULT_CONTENT_TYPE } from "../shared/names.ts";

/** Types served with an explicit UTF-8 charset. */
const TEXTUAL = /^(text\/|application\/(javascript|json|xml|manifest\+json|ld\+json)|image\/svg\+xml)/;

export function contentTypeFor(path: string): string {
  const type = inferContentType(path) ?? DEFAULT_CONTENT_TYPE;
  return TEXTUAL.test(type) && !type.includes("charset") ? `${type}; charset=utf-8` : type;
}
