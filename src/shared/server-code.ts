/**
 * A version's server code as a deploy sends it: a bundle (built by the CLI
 * with esbuild, in the Worker Loader's module format) uploaded as a blob, plus plain-text variables and
 * compatibility settings. Checked here, where the CLI and the platform can
 * both use the checks. Pure.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { jsonBytes, MAX_STORED_JSON_BYTES } from "./limits.ts";
import { isContentHash } from "./names.ts";

/** Used when a deploy names no compatibility date. */
export const DEFAULT_COMPATIBILITY_DATE = "2026-11-01";

/** Sources the CLI bundles, in all. */
export const MAX_SERVER_SOURCE_BYTES = 1024 * 1024;
/** A bundle, as stored JSON (Workers' own limit for a Worker is 10 MB compressed). */
export const MAX_SERVER_BUNDLE_BYTES = 10 * 1024 * 1024;
const MAX_MODULES = 500;
const MAX_VARS = 64;
const MAX_VAR_BYTES = 5 * 1024;
const MAX_FLAGS = 32;

/** The binding name the platform gives the project's assets. */
export const ASSETS_BINDING = "ASSETS";

/** Module names the platform keeps for itself. */
export const RESERVED_MODULE_PREFIX = "__r2_assets";

/** How a version's server code runs, apart from its code. */
export interface ServerSettings {
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
}

/** A bundle's module: source text, or a typed module (binary data as base64, so that it survives JSON). */
export type BundleModule = string | { js?: string; cjs?: string; text?: string; json?: unknown; data?: string };

/** A bundle: what the Worker Loader runs. */
export interface ServerBundle {
  mainModule: string;
  modules: Record<string, BundleModule>;
}

/** A deploy's `server` field, checked. */
export interface ServerDeploy {
  bundle: { hash: string; size: number };
  settings: ServerSettings;
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FLAG = /^[a-z0-9_]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MODULE_KINDS = new Set(["js", "cjs", "text", "json", "data"]);

/** Whether `path` is a relative module path: no leading /, no . or .. segments, printable. */
export function checkSourcePath(path: string): string | null {
  if (path === "" || path.startsWith("/") || path.includes("\\")) {
    return "must be a relative path with / separators";
  }
  if (path.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
    return "must not have empty, . or .. segments";
  }
  if (/[\u0000-\u001f\u007f]/.test(path)) {
    return "contains a control character";
  }
  return null;
}

/** Checks a compatibility date: YYYY-MM-DD, and not in the future. */
export function checkCompatibilityDate(date: string, now: number = Date.now()): string | null {
  if (!DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    return "must be a date, YYYY-MM-DD";
  }
  if (Date.parse(`${date}T00:00:00Z`) > now) {
    return "must not be in the future";
  }
  return null;
}

/** Checks a variable name: an identifier, and not the name the assets binding takes. */
export function checkVarName(name: string): string | null {
  if (!VAR_NAME.test(name)) {
    return "must be a name of letters, digits and _ (not starting with a digit)";
  }
  return name === ASSETS_BINDING ? `${ASSETS_BINDING} is the binding to the project's files` : null;
}

/** Checks a deploy's `server` field and fills in defaults; a failure names the field. */
export function checkServerDeploy(input: unknown, now: number = Date.now()): Outcome<ServerDeploy> {
  const problem = (field: string, message: string): Outcome<never> =>
    fail("bad_request", message, { field: `server.${field}` });
  if (!isObject(input)) {
    return fail("bad_request", "must be an object", { field: "server" });
  }
  const { bundle, vars = {}, compatibility_date = DEFAULT_COMPATIBILITY_DATE, compatibility_flags = [] } = input;
  if (!isObject(bundle) || typeof bundle.hash !== "string" || !isContentHash(bundle.hash)) {
    return problem("bundle", 'must be {"hash", "size"} naming the uploaded bundle (hash: 64 lowercase hex digits)');
  }
  const size = bundle.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1 || size > MAX_SERVER_BUNDLE_BYTES) {
    return fail("payload_too_large", `bundles are 1 to ${MAX_SERVER_BUNDLE_BYTES} bytes`, {
      field: "server.bundle.size",
    });
  }
  if (!isObject(vars) || Object.keys(vars).length > MAX_VARS) {
    return problem("vars", `must map up to ${MAX_VARS} names to text values`);
  }
  for (const [name, value] of Object.entries(vars)) {
    const nameProblem = checkVarName(name);
    if (nameProblem) {
      return problem(`vars.${name}`, nameProblem);
    }
    if (typeof value !== "string" || new TextEncoder().encode(value).length > MAX_VAR_BYTES) {
      return problem(`vars.${name}`, `must be text of at most ${MAX_VAR_BYTES} bytes`);
    }
  }
  const stored = jsonBytes(vars);
  if (stored > MAX_STORED_JSON_BYTES) {
    return fail("payload_too_large", `would take ${stored} bytes to store; the limit is ${MAX_STORED_JSON_BYTES}`, {
      field: "server.vars",
    });
  }
  if (typeof compatibility_date !== "string") {
    return problem("compatibility_date", "must be a date, YYYY-MM-DD");
  }
  const dateProblem = checkCompatibilityDate(compatibility_date, now);
  if (dateProblem) {
    return problem("compatibility_date", dateProblem);
  }
  if (
    !Array.isArray(compatibility_flags) ||
    compatibility_flags.length > MAX_FLAGS ||
    !compatibility_flags.every((flag) => typeof flag === "string" && FLAG.test(flag))
  ) {
    return problem("compatibility_flags", `must be a list of up to ${MAX_FLAGS} flag names`);
  }
  return succeed({
    bundle: { hash: bundle.hash, size },
    settings: {
      compatibilityDate: compatibility_date,
      compatibilityFlags: compatibility_flags as string[],
      vars: vars as Record<string, string>,
    },
  });
}

/** Checks the shape of a stored bundle: a main module among relative module names of known kinds. */
export function checkBundle(value: unknown): Outcome<ServerBundle> {
  const problem = (message: string): Outcome<never> =>
    fail("bad_request", `the bundle ${message}`, { field: "server.bundle" });
  if (!isObject(value) || typeof value.mainModule !== "string" || !isObject(value.modules)) {
    return problem('is not {"mainModule", "modules"}');
  }
  const names = Object.keys(value.modules);
  if (names.length === 0 || names.length > MAX_MODULES) {
    return problem(`must hold 1 to ${MAX_MODULES} modules`);
  }
  for (const [name, module] of Object.entries(value.modules)) {
    const pathProblem = checkSourcePath(name);
    if (pathProblem || name.startsWith(RESERVED_MODULE_PREFIX)) {
      return problem(
        `module name ${JSON.stringify(name)} ${pathProblem ?? `may not start with ${RESERVED_MODULE_PREFIX}`}`,
      );
    }
    const kinds = typeof module === "string" ? ["js"] : isObject(module) ? Object.keys(module) : [];
    if (kinds.length !== 1 || !MODULE_KINDS.has(kinds[0] ?? "")) {
      return problem(`module ${JSON.stringify(name)} must be source text or one of {js, cjs, text, json, data}`);
    }
  }
  if (!names.includes(value.mainModule)) {
    return problem(`main module ${JSON.stringify(value.mainModule)} is not among its modules`);
  }
  return succeed({ mainModule: value.mainModule, modules: value.modules as Record<string, BundleModule> });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
