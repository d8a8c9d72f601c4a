/**
 * A version's server code as a deploy sends it: the entry module, the local
 * files it imports, plain-text variables and compatibility settings. Checked
 * here, where the CLI and the platform can both use the checks. Pure.
 */
import type { ConfigProblem } from "./config.ts";

/** Used when a deploy names no compatibility date. */
export const DEFAULT_COMPATIBILITY_DATE = "2026-11-01";

/** Sources of one version's server code, in all. */
export const MAX_SERVER_SOURCE_BYTES = 1024 * 1024;
const MAX_SERVER_FILES = 500;
const MAX_VARS = 64;
const MAX_VAR_BYTES = 5 * 1024;
const MAX_FLAGS = 32;

/** The binding name the platform gives the project's assets. */
export const ASSETS_BINDING = "ASSETS";

export interface ServerSource {
  /** Path of the entry module among `files`, e.g. "server/index.ts". */
  entry: string;
  /** Relative path → source text. */
  files: Record<string, string>;
  vars: Record<string, string>;
  compatibility_date: string;
  compatibility_flags: string[];
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FLAG = /^[a-z0-9_]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MODULE = /\.(m?[jt]sx?|cjs|json)$/;

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

/** Checks a deploy's `server` field and fills in defaults. */
export function checkServerSource(input: unknown, now: number = Date.now()): { source: ServerSource } | { problem: ConfigProblem } {
  const problem = (field: string, message: string) => ({ problem: { field: `server.${field}`, message } });
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { problem: { field: "server", message: "must be an object" } };
  }
  const { entry, files, vars = {}, compatibility_date = DEFAULT_COMPATIBILITY_DATE, compatibility_flags = [] } = input as Record<string, unknown>;
  if (typeof files !== "object" || files === null || Array.isArray(files)) {
    return problem("files", "must map relative paths to source text");
  }
  const paths = Object.keys(files);
  if (paths.length === 0 || paths.length > MAX_SERVER_FILES) {
    return problem("files", `must hold 1 to ${MAX_SERVER_FILES} files`);
  }
  let bytes = 0;
  for (const [path, text] of Object.entries(files)) {
    const pathProblem = checkSourcePath(path);
    if (pathProblem) {
      return problem(`files[${JSON.stringify(path)}]`, pathProblem);
    }
    if (typeof text !== "string") {
      return problem(`files[${JSON.stringify(path)}]`, "must be source text");
    }
    bytes += new TextEncoder().encode(text).length;
  }
  if (bytes > MAX_SERVER_SOURCE_BYTES) {
    return problem("files", `the sources are over ${MAX_SERVER_SOURCE_BYTES} bytes`);
  }
  if (typeof entry !== "string" || !paths.includes(entry)) {
    return problem("entry", "must be one of the files");
  }
  if (!MODULE.test(entry)) {
    return problem("entry", "must be a .ts, .js, .tsx, .jsx or .mjs module");
  }
  if (typeof vars !== "object" || vars === null || Array.isArray(vars) || Object.keys(vars).length > MAX_VARS) {
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
  return {
    source: {
      entry,
      files: files as Record<string, string>,
      vars: vars as Record<string, string>,
      compatibility_date,
      compatibility_flags: compatibility_flags as string[],
    },
  };
}
