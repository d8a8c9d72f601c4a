/**
 * The one shape of a routing decision, from the first rule to the response:
 * parameterised over what a file is known by (in the pure rules, whatever
 * the caller's lookup returns; in the serving Worker, the version's file
 * reference), so that a decision never has to be relabelled or looked up
 * again. Pure types.
 */
import type { HeaderOp } from "./headers.ts";
import type { RedirectStatus } from "./redirects.ts";

/** A file as a lookup returns it: its content hash, or something that carries one. */
export type FileLike = string | { readonly hash: string };

/** Looks a decoded path up in a version's files: the file, or null. */
export type Lookup<F extends FileLike> = (path: string) => F | null;

/** The content hash of a file as a lookup returned it. */
export function contentOf(file: FileLike): string {
  return typeof file === "string" ? file : file.hash;
}

/** What the assets make of a request. */
export type Intent<F extends FileLike> =
  /** Serve `file` with `status`. */
  | { kind: "asset"; file: F; status: 200 | 404 }
  /** Redirect; `rule` says whether `_redirects` (true) or html_handling (false) asked for it. */
  | { kind: "redirect"; location: string; status: Exclude<RedirectStatus, 200>; rule: boolean }
  /** Nothing matches. `rewritten` when a 200 rule led here: that is a 404, whoever else could answer. */
  | { kind: "none"; rewritten: boolean };

/** The assets' answer: the intent, and the changes `_headers` makes to the response, whatever it is. */
export interface AssetsDecision<F extends FileLike> {
  kind: "assets";
  intent: Intent<F>;
  headers: HeaderOp[];
}

/** Who answers a request to a version, and with what: its server code `S`, or its assets. */
export type Decision<F extends FileLike, S = unknown> = { kind: "server"; server: S } | AssetsDecision<F>;
