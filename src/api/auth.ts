/**
 * Bearer authentication for the control plane. The admin token (a secret
 * binding) may do anything; a deploy token, `r2a_<project>_<secret>`, acts
 * on its own project only, within its scope: `deploy` (upload and finalize
 * without going live), `activate` (also make versions live, roll back) or
 * `manage` (also retention, deleting versions, pins, garbage collection).
 * Deploy tokens are stored as SHA-256 hashes in the project's manifest.
 */
import { AppError } from "../errors.ts";
import { toHex } from "../shared/blocks.ts";
import { TOKEN_SCOPES, type TokenScope } from "../shared/limits.ts";
import { isProjectName } from "../shared/names.ts";

/**
 * Who is calling. A deploy token's principal keeps the token's hash and the
 * incarnation of the project it belongs to, for the Durable Object to check
 * again where a change commits.
 */
export type Principal =
  | { kind: "admin" }
  | { kind: "project"; project: string; token: string; hash: string; scope: TokenScope; incarnation: string };

const DEPLOY_TOKEN = /^r2a_([a-z0-9-]{1,63})_([A-Za-z0-9_-]{32,})$/;

/** A new deploy token for `project`, with its hash and public id. */
export async function newDeployToken(project: string): Promise<{ token: string; hash: string; id: string }> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const token = `r2a_${project}_${base64url(secret)}`;
  const hash = await sha256Hex(token);
  return { token, hash, id: hash.slice(0, 12) };
}

/** Finds a deploy token of `project` by its SHA-256; null if the project has no such token (or does not exist). */
export type TokenLookup = (
  project: string,
  hash: string,
) => Promise<{ id: string; scope: TokenScope; incarnation: string } | null>;

/** Works out who is calling. */
export async function authenticate(
  request: Request,
  adminToken: string | undefined,
  tokenOf: TokenLookup,
): Promise<Principal> {
  const header = request.headers.get("authorization");
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) {
    throw new AppError("unauthorized", "missing bearer token: send Authorization: Bearer <token>");
  }
  const token = match[1];
  if (adminToken && (await equalSecrets(token, adminToken))) {
    return { kind: "admin" };
  }
  const deploy = DEPLOY_TOKEN.exec(token);
  const project = deploy?.[1];
  const hash = await sha256Hex(token);
  const found = project && isProjectName(project) ? await tokenOf(project, hash) : null;
  if (project && found) {
    return { kind: "project", project, token: found.id, hash, scope: found.scope, incarnation: found.incarnation };
  }
  throw new AppError("unauthorized", "invalid token");
}

/** Throws unless `principal` may act on `project`. */
export function authorize(principal: Principal, project: string): void {
  if (principal.kind === "project" && principal.project !== project) {
    throw new AppError("forbidden", `this token is for project ${principal.project}, not ${project}`);
  }
}

/** Throws unless `principal` may do what `scope` allows (the admin may do anything). */
export function requireScope(principal: Principal, scope: TokenScope, action: string): void {
  if (principal.kind === "project" && TOKEN_SCOPES.indexOf(principal.scope) < TOKEN_SCOPES.indexOf(scope)) {
    throw new AppError(
      "forbidden",
      `this token's scope is ${principal.scope}; to ${action} it needs ${scope} (or the admin token)`,
      {
        scope: principal.scope,
        needs: scope,
      },
    );
  }
}

/** Throws unless `principal` is the admin. */
export function requireAdmin(principal: Principal, action: string): void {
  if (principal.kind !== "admin") {
    throw new AppError("forbidden", `only the admin token can ${action}`);
  }
}

async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** Compares two secrets in time that does not depend on where they differ. */
async function equalSecrets(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([a, b].map((s) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(s))));
  return crypto.subtle.timingSafeEqual(da as ArrayBuffer, db as ArrayBuffer);
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}
