/**
 * Finds the files to deploy under a directory: every regular file, following
 * symbolic links, minus what `.assetsignore` (gitignore syntax) excludes and
 * the `.assetsignore` file itself.
 */
import { readFile, readdir, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { checkAssetPath } from "../shared/names.ts";
import { mapLimit } from "../shared/pool.ts";
import { CliError } from "./errors.ts";

export const IGNORE_FILE = ".assetsignore";

/** Directory entries examined at once. */
const STAT_CONCURRENCY = 32;

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
  await walk(root, root, rules, new Set([await realpath(root)]), files);
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
  root: string,
  dir: string,
  rules: Ignore,
  ancestors: ReadonlySet<string>,
  out: LocalFile[],
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  const subdirs: string[] = [];
  await mapLimit(entries, STAT_CONCURRENCY, async (entry) => {
    const full = join(dir, entry.name);
    const rel = relative(root, full).split(sep).join("/");
    if (!entry.isDirectory() && !entry.isFile() && !entry.isSymbolicLink()) {
      return;
    }
    // stat() follows links: a link is deployed as what it points at.
    const info = await stat(full, { bigint: true }).catch(() => null);
    if (info?.isDirectory()) {
      if (!rules.ignores(`${rel}/`)) {
        subdirs.push(full);
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
  });
  for (const full of subdirs.sort()) {
    // Follow links into directories, but never around a loop.
    const real = await realpath(full);
    if (!ancestors.has(real)) {
      await walk(root, full, rules, new Set([...ancestors, real]), out);
    }
  }
}
