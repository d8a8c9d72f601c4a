/**
 * The web console, served by the platform on its control host: a page, a
 * script and a style sheet, sent as they are (no build step). It signs in
 * with a token kept in the browser's session storage and uses the same API
 * as the CLI. A strict Content-Security-Policy allows only these files and
 * calls to this origin.
 */
import { visitorError } from "../errors.ts";
import page from "./console.html";
import style from "./console.css";
import script from "./console.js";
import deploy from "./console-deploy.js";
import contentTypes from "./console-types.js";
import hashWorker from "./console-hash.js";

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const FILES: Record<string, { body: string; type: string }> = {
  "/": { body: page, type: "text/html; charset=utf-8" },
  "/console.css": { body: style, type: "text/css; charset=utf-8" },
  "/console.js": { body: script, type: "text/javascript; charset=utf-8" },
  "/console-deploy.js": { body: deploy, type: "text/javascript; charset=utf-8" },
  "/console-types.js": { body: contentTypes, type: "text/javascript; charset=utf-8" },
  "/console-hash.js": { body: hashWorker, type: "text/javascript; charset=utf-8" },
};

export function serveConsole(request: Request): Response {
  const url = new URL(request.url);
  const head = request.method === "HEAD";
  const file = FILES[url.pathname];
  if (!file) {
    return visitorError(404, { head, detail: "the API is under /api/, the console at /" });
  }
  if (request.method !== "GET" && !head) {
    return visitorError(405, { head, headers: { allow: "GET, HEAD" } });
  }
  return new Response(head ? null : file.body, {
    headers: { "content-type": file.type, "cache-control": "no-cache", ...SECURITY_HEADERS },
  });
}
