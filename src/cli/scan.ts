/**
 * Finds the files to deploy under a directory: every regular file, following
 * symbolic links, minus what `.assetsignore` (gitignore syntax) excludes and
 * the `.assetsignore` file itself.
 */
import { statSync, type BigIntStats } from "node:fs";
import { readFile, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import ignore, { type Ignore } from "ignore";
import { checkAssetPath } from "../shared/names.ts";
import { CliError } from "./errors.ts";

export const IGNORE_FILE = ".assetsignore";

export interface LocalFile {
  /** The URL path it is served at, e.g. /blog/index.html. */
  path: string;
  /** Where it is on disk. */
  file: string;
  size: number;
  /** What says whether it changed since it was last hashed (see hash-cache.ts). */
  stamp: FileStamp;
}

/** A file's modification and change times (ns) and its inode, as decimal strings. */
export interface FileStamp {
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  dev: string;
}

export async function scanDirectory(root: string): Promise<LocalFile[]> {
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    throw new CliError(`${root} is not a directory`);
  }
  const rules = await loadIgnoreRules(root);
  const files: LocalFile[] = [];
  await walk(root, "", rules, new Set([await realpath(root)]), files);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}

async function loadIgnoreRules(root: string): Promise<Ignore> {
  const rules = ignore().add(IGNORE_FILE);
  const text = await readFile(join(root, IGNORE_FILE), "utf8").catch(() => null);
  return text === null ? rules : rules.add(text);
}

/** `ancestors` holds the real paths of the directories above `dir`, to stop link loops. */
async function walk(
  dir: string,
  /** `dir` relative to the root, with "/" between names ("" for the root). */
  relDir: string,
  rules: Ignore,
  ancestors: ReadonlySet<string>,
  out: LocalFile[],
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  const subdirs: { full: string; rel: string }[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
    if (!entry.isDirectory() && !entry.isFile() && !entry.isSymbolicLink()) {
      continue;
    }
    // stat() follows links: a link is deployed as what it points at.
    const info = statOf(full);
    if (info?.isDirectory()) {
      if (!rules.ignores(`${rel}/`)) {
        subdirs.push({ full, rel });
      }
    } else if (info?.isFile() && !rules.ignores(rel)) {
      const path = `/${rel}`;
      const problem = checkAssetPath(path);
      if (problem) {
        throw new CliError(
          `cannot deploy ${JSON.stringify(rel)}: its path ${problem}; rename it or list it in ${IGNORE_FILE}`,
        );
      }
      const stamp = { mtimeNs: `${info.mtimeNs}`, ctimeNs: `${info.ctimeNs}`, ino: `${info.ino}`, dev: `${info.dev}` };
      out.push({ path, file: full, size: Number(info.size), stamp });
    }
  }
  for (const { full, rel } of subdirs) {
    // Follow links into directories, but never around a loop.
    const real = await realpath(full);
    if (!ancestors.has(real)) {
      await walk(full, rel, rules, new Set([...ancestors, real]), out);
    }
  }
}

/**
 * stat() with nanosecond times, or null if the entry cannot be read (gone,
 * a broken link, no permission). Synchronous: for 100,000 files on a local
 * disk the asynchronous forms took twice as long, in per-call overhead.
 */
function statOf(path: string): BigIntStats | null {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}
