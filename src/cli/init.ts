/**
 * `r2-assets init`: a starter r2-assets.json for the directory it runs in.
 * The guess is pure (guessConfig, from a listing of the directory); reading
 * the directory and writing the file are the only I/O.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { isProjectName } from "../shared/names.ts";
import type { CommandOutput } from "./commands.ts";
import { CONFIG_FILE } from "./config-file.ts";
import { CliError } from "./errors.ts";

/** Where builds usually put a site, most likely first. */
const BUILD_DIRECTORIES = ["dist", "build", "out", "public", "_site", "site"];

/** What init sees of a directory. */
export interface Listing {
  /** The directory's name, and its package.json's `name` if it has one. */
  name: string;
  packageName?: string;
  /** Its subdirectories, and for each the files (paths relative to it) it holds. */
  directories: Record<string, string[]>;
}

export interface StarterConfig {
  project: string;
  directory: string;
  not_found_handling: "single-page-application" | "404-page" | "none";
}

/** What each key of a starter config means, for people. */
export const KEY_MEANINGS: Record<keyof StarterConfig, string> = {
  project: "the project to deploy to (create it with `r2-assets project create <name>`)",
  directory: "the built site, relative to this file",
  not_found_handling:
    "what a path with no file serves: single-page-application (index.html, for client routing), 404-page (the nearest 404.html) or none",
};

export function guessConfig(listing: Listing): StarterConfig {
  const candidates = BUILD_DIRECTORIES.filter((dir) => listing.directories[dir] !== undefined);
  const withIndex = candidates.find((dir) => listing.directories[dir]?.includes("index.html"));
  const directory = withIndex ?? candidates[0] ?? "dist";
  const files = listing.directories[directory] ?? [];
  const pages = files.filter((file) => file.endsWith(".html"));
  const notFound = files.includes("404.html")
    ? "404-page"
    : pages.length === 1 && pages[0] === "index.html"
      ? "single-page-application"
      : "none";
  return {
    project: projectNameFrom(listing.packageName ?? listing.name),
    directory: `./${directory}`,
    not_found_handling: notFound,
  };
}

/** A project name from a package or directory name: "@acme/My_Site" → "my-site". */
export function projectNameFrom(name: string): string {
  const slug = name
    .replace(/^@[^/]*\//, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return isProjectName(slug) ? slug : "my-site";
}

export async function init(cwd: string, options: { project?: string; force: boolean }): Promise<CommandOutput> {
  const path = join(cwd, CONFIG_FILE);
  const config = guessConfig(await listDirectory(cwd));
  if (options.project !== undefined) {
    config.project = options.project;
  }
  try {
    await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { flag: options.force ? "w" : "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(`${path} already exists; --force replaces it`);
    }
    throw new CliError(`${path}: cannot be written (${(error as Error).message})`);
  }
  const width = Math.max(...Object.keys(config).map((key) => key.length));
  const lines = (Object.keys(config) as (keyof StarterConfig)[]).map(
    (key) => `  ${key.padEnd(width)}  ${JSON.stringify(config[key])}: ${KEY_MEANINGS[key]}`,
  );
  return {
    json: { path, config },
    text: [`Wrote ${path}:`, ...lines, "", "Then: r2-assets deploy"].join("\n"),
  };
}

/** The directory's name, package name and build directories (files at most three levels deep). */
async function listDirectory(cwd: string): Promise<Listing> {
  const listing: Listing = { name: basename(cwd), directories: {} };
  try {
    const pkg = JSON.parse(await readFile(join(cwd, "package.json"), "utf8")) as { name?: unknown };
    if (typeof pkg.name === "string") {
      listing.packageName = pkg.name;
    }
  } catch {
    // No package.json, or not JSON: the directory's name will do.
  }
  for (const dir of BUILD_DIRECTORIES) {
    const files = await listFiles(join(cwd, dir), 3);
    if (files !== null) {
      listing.directories[dir] = files;
    }
  }
  return listing;
}

async function listFiles(dir: string, depth: number): Promise<string[] | null> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.isFile()) {
      files.push(entry.name);
    } else if (entry.isDirectory() && depth > 1) {
      for (const file of (await listFiles(join(dir, entry.name), depth - 1)) ?? []) {
        files.push(`${entry.name}/${file}`);
      }
    }
  }
  return files;
}
