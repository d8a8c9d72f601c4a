/**
 * `r2-assets.json`, the deploy configuration that lives next to a site, so
 * that `npx r2-assets deploy` needs no flags:
 *
 *   {
 *     "project": "shop",
 *     "directory": "./dist",
 *     "message": "…",
 *     "html_handling": "auto-trailing-slash",
 *     "not_found_handling": "single-page-application",
 *     "run_worker_first": ["/api/*"],
 *     "server": { "entry": "./server/index.ts", "vars": { "GREETING": "Hello" },
 *                 "compatibility_date": "2026-11-01", "compatibility_flags": [] },
 *     "alias": "staging",
 *     "compress": { "exclude": ["/data/*.json"] }
 *   }
 *
 * Paths are relative to the file. Unknown keys are errors that name the
 * key. Checking is pure; reading is the only I/O.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CliError } from "./errors.ts";

/** The name `deploy` looks for in the current directory. */
export const CONFIG_FILE = "r2-assets.json";

export interface ConfigFile {
  /** Where it was read from. */
  path: string;
  project?: string;
  directory?: string;
  message?: string;
  html_handling?: string;
  not_found_handling?: string;
  run_worker_first?: boolean | string[];
  server?: {
    entry: string;
    vars?: Record<string, string>;
    compatibility_date?: string;
    compatibility_flags?: string[];
  };
  alias?: string;
  /** false, or files not to precompress. */
  compress?: false | { exclude: string[] };
}

const KEYS = new Set([
  "$schema",
  "project",
  "directory",
  "message",
  "html_handling",
  "not_found_handling",
  "run_worker_first",
  "server",
  "alias",
  "compress",
]);
const SERVER_KEYS = new Set(["entry", "vars", "compatibility_date", "compatibility_flags"]);

/** Reads and checks a config file; null if `path` does not exist and `required` is false. */
export async function readConfigFile(path: string, required: boolean): Promise<ConfigFile | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") {
      return null;
    }
    throw new CliError(`${path}: cannot be read (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  return checkConfigFile(value, resolve(path));
}

/** Checks a parsed config file; paths in it become absolute, relative to the file. */
export function checkConfigFile(value: unknown, path: string): ConfigFile {
  const problem = (key: string, message: string): CliError => new CliError(`${path}: ${key}: ${message}`, 2);
  if (!isObject(value)) {
    throw new CliError(`${path}: must be a JSON object`, 2);
  }
  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) {
      throw problem(key, `unknown key; the keys are ${[...KEYS].filter((k) => k !== "$schema").join(", ")}`);
    }
  }
  const base = dirname(path);
  const config: ConfigFile = { path };
  for (const key of ["project", "directory", "message", "html_handling", "not_found_handling", "alias"] as const) {
    const field = value[key];
    if (field === undefined) {
      continue;
    }
    if (typeof field !== "string") {
      throw problem(key, "must be a string");
    }
    config[key] = key === "directory" ? resolve(base, field) : field;
  }
  const workerFirst = value.run_worker_first;
  if (workerFirst !== undefined) {
    if (
      typeof workerFirst !== "boolean" &&
      !(Array.isArray(workerFirst) && workerFirst.every((rule) => typeof rule === "string"))
    ) {
      throw problem("run_worker_first", "must be true, false or a list of route patterns");
    }
    config.run_worker_first = workerFirst;
  }
  if (value.server !== undefined) {
    config.server = checkServer(value.server, base, (key, message) => problem(`server.${key}`, message));
  }
  const compress = value.compress;
  if (compress !== undefined && compress !== true) {
    const exclude = isObject(compress) ? compress.exclude : undefined;
    if (
      compress !== false &&
      !(
        isObject(compress) &&
        Object.keys(compress).every((key) => key === "exclude") &&
        Array.isArray(exclude) &&
        exclude.every((pattern) => typeof pattern === "string" && pattern.startsWith("/"))
      )
    ) {
      throw problem("compress", 'must be true, false or {"exclude": ["/pattern", ...]}');
    }
    config.compress = compress === false ? false : { exclude: exclude as string[] };
  }
  return config;
}

function checkServer(
  value: unknown,
  base: string,
  problem: (key: string, message: string) => CliError,
): NonNullable<ConfigFile["server"]> {
  if (!isObject(value)) {
    throw problem("", "must be an object");
  }
  for (const key of Object.keys(value)) {
    if (!SERVER_KEYS.has(key)) {
      throw problem(key, `unknown key; the keys are ${[...SERVER_KEYS].join(", ")}`);
    }
  }
  if (typeof value.entry !== "string") {
    throw problem("entry", "must be the path of the server code's entry module");
  }
  const server: NonNullable<ConfigFile["server"]> = { entry: resolve(base, value.entry) };
  if (value.vars !== undefined) {
    if (!isObject(value.vars) || !Object.values(value.vars).every((v) => typeof v === "string")) {
      throw problem("vars", "must map names to text values");
    }
    server.vars = value.vars as Record<string, string>;
  }
  if (value.compatibility_date !== undefined) {
    if (typeof value.compatibility_date !== "string") {
      throw problem("compatibility_date", "must be a date, YYYY-MM-DD");
    }
    server.compatibility_date = value.compatibility_date;
  }
  if (value.compatibility_flags !== undefined) {
    if (
      !Array.isArray(value.compatibility_flags) ||
      !value.compatibility_flags.every((flag) => typeof flag === "string")
    ) {
      throw problem("compatibility_flags", "must be a list of flag names");
    }
    server.compatibility_flags = value.compatibility_flags;
  }
  return server;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
