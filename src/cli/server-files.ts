/**
 * The server code a deploy ships: the entry module and every local file it
 * imports, directly or not. Bare imports (packages) are left to the
 * platform's bundler, which refuses what it cannot provide.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import { MAX_SERVER_SOURCE_BYTES } from "../shared/server-code.ts";
import { CliError } from "./errors.ts";

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g;
const EXTENSIONS = [
  "",
  ".ts",
  ".tsx",
  ".mts",
  ".js",
  ".mjs",
  ".jsx",
  ".json",
  "/index.ts",
  "/index.tsx",
  "/index.js",
  "/index.mjs",
];

export interface ServerFiles {
  /** The entry's path among `files`. */
  entry: string;
  /** Paths relative to the files' common directory → source text. */
  files: Record<string, string>;
}

export async function collectServerFiles(entry: string): Promise<ServerFiles> {
  const start = resolve(entry);
  if (!(await isFile(start))) {
    throw new CliError(`--server: ${entry} is not a file`);
  }
  const sources = new Map<string, string>();
  const pending = [start];
  let bytes = 0;
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (sources.has(file)) {
      continue;
    }
    const text = await readFile(file, "utf8");
    bytes += Buffer.byteLength(text);
    if (bytes > MAX_SERVER_SOURCE_BYTES) {
      throw new CliError(`--server: the server code is over ${MAX_SERVER_SOURCE_BYTES} bytes of source`);
    }
    sources.set(file, text);
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? "";
      pending.push(await resolveImport(file, specifier));
    }
  }
  const root = commonDirectory([...sources.keys()]);
  const files: Record<string, string> = {};
  for (const [file, text] of sources) {
    files[relative(root, file).split(sep).join("/")] = text;
  }
  return { entry: relative(root, start).split(sep).join("/"), files };
}

async function resolveImport(from: string, specifier: string): Promise<string> {
  const base = resolve(dirname(from), specifier);
  // TypeScript sources often import "./x.js" meaning ./x.ts.
  const stems = /\.(m?js|jsx)$/.test(base) ? [base, base.replace(/\.(m?)js(x?)$/, ".$1ts$2")] : [base];
  for (const stem of stems) {
    for (const extension of EXTENSIONS) {
      if (await isFile(stem + extension)) {
        return stem + extension;
      }
    }
  }
  throw new CliError(`--server: ${relative(process.cwd(), from)} imports ${specifier}, which does not exist`);
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

function commonDirectory(files: string[]): string {
  let common = dirname(files[0] ?? ".");
  for (const file of files) {
    while (!file.startsWith(common.endsWith(sep) ? common : `${common}${sep}`)) {
      common = dirname(common);
    }
  }
  return common;
}
