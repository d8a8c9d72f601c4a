/**
 * Authority checked where a change commits. The API authenticates a caller
 * before it reads the request's body; a body can stall for as long as the
 * caller likes, and in the meantime its token may be revoked, or the
 * project deleted and created again by someone else. So every change
 * carries its caller's Authority to the Durable Object, which checks it in
 * the same synchronous step (one SQLite transaction) as the change itself.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { TOKEN_SCOPES, type TokenScope } from "../shared/limits.ts";
import type { Db } from "../storage/db.ts";
import type { Authority } from "./contract.ts";
import type { ProjectRow } from "./project.ts";
import { tokenOf } from "./tokens.ts";

/** What a change needs of its caller: a token scope, or the admin token. */
export type Need = TokenScope | "admin";

/** Who a change is made by, once its authority is checked. */
export interface Actor {
  /** How the activation history names the caller: `admin`, or a deploy token's id. */
  name: string;
  /** The caller's scope; the admin holds every one. */
  scope: TokenScope | "admin";
}

/** The project's incarnation; projects created before incarnations existed use their creation time. */
export function incarnationOf(row: ProjectRow): string {
  return row.incarnation ?? String(row.created_at);
}

/** A fresh incarnation for a project being created. */
export function newIncarnation(now: number): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${now.toString(36)}-${[...random].map((n) => n.toString(36)).join("")}`;
}

/** Whether `scope` allows what `need` asks for. */
export function allows(scope: TokenScope | "admin", need: Need): boolean {
  if (scope === "admin") {
    return true;
  }
  return need !== "admin" && TOKEN_SCOPES.indexOf(scope) >= TOKEN_SCOPES.indexOf(need);
}

/** Checks `authority` against the project as it is now; nothing may change unless it succeeds. */
export function checkAuthority(db: Db, row: ProjectRow, authority: Authority, need: Need): Outcome<Actor> {
  if (authority.incarnation !== incarnationOf(row)) {
    return fail(
      "conflict",
      `project ${row.name} was deleted and created again after this request was authenticated; nothing was changed`,
    );
  }
  if (authority.token === null) {
    return succeed({ name: "admin", scope: "admin" });
  }
  const token = tokenOf(db, authority.token);
  if (token === null) {
    return fail("unauthorized", "this token was revoked before the change could be made; nothing was changed");
  }
  if (!allows(token.scope, need)) {
    return fail("forbidden", `this token's scope is ${token.scope}; this change needs ${need}`, {
      scope: token.scope,
      needs: need,
    });
  }
  return succeed({ name: token.id, scope: token.scope });
}
