/**
 * What a deploy tells the platform about its hashed files (see
 * src/rules/fingerprint.ts): the folders whose names show a bundler's hash
 * position, and the files a build manifest lists as hashed outputs: Vite's
 * (`.vite/manifest.json`, or `manifest.json` before Vite 5, with
 * `build.manifest`), webpack's `asset-manifest.json`, or one named with
 * `--build-manifest`. Reading the manifests is the only I/O.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { hashedDirectories, type HashedFiles } from "../rules/fingerprint.ts";
import { CliError } from "./errors.ts";

/** Build manifests looked for in the deployed folder, by path from its root. */
const KNOWN_MANIFESTS = ["/.vite/manifest.json", "/manifest.json", "/asset-manifest.json"];

export async function hashedFilesOf(
  dir: string,
  paths: readonly string[],
  buildManifest?: string,
): Promise<HashedFiles> {
  const existing = new Set(paths);
  const files = new Set<string>();
  // Found in the folder whether or not it is deployed (.assetsignore may leave it out).
  const manifests = KNOWN_MANIFESTS.map((path) => join(dir, path));
  for (const manifest of buildManifest === undefined ? manifests : [...manifests, buildManifest]) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(manifest, "utf8"));
    } catch (error) {
      if (manifest === buildManifest) {
        throw new CliError(`--build-manifest: ${manifest} cannot be read as JSON (${(error as Error).message})`);
      }
      continue;
    }
    for (const path of hashedOutputs(parsed)) {
      if (existing.has(path)) {
        files.add(path);
      }
    }
  }
  return { directories: hashedDirectories(paths), files: [...files].toSorted() };
}

/**
 * The hashed outputs a build manifest names, as served paths: Vite's maps
 * each source to `{file, css, assets}`, relative to the output folder;
 * webpack's (Create React App's) has `files`, a map to served paths.
 * Anything else names nothing. Pure.
 */
export function hashedOutputs(manifest: unknown): string[] {
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) {
    return [];
  }
  const record = manifest as Record<string, unknown>;
  const asPath = (value: unknown): string[] =>
    typeof value === "string" && value !== "" && !value.endsWith(".html") && !/^[a-z]+:/i.test(value)
      ? [value.startsWith("/") ? value : `/${value}`]
      : [];
  if (typeof record.files === "object" && record.files !== null && !Array.isArray(record.files)) {
    return Object.values(record.files as Record<string, unknown>).flatMap(asPath);
  }
  return Object.values(record).flatMap((entry) => {
    if (typeof entry !== "object" || entry === null || typeof (entry as { file?: unknown }).file !== "string") {
      return [];
    }
    const { file, css, assets } = entry as { file: string; css?: unknown; assets?: unknown };
    const lists = [css, assets].flatMap((list) => (Array.isArray(list) ? list : []));
    return [...asPath(file), ...lists.flatMap(asPath)];
  });
}
