/**
 * `r2-assets deploy <dir>`: upload what changed and make a new version.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FinalizeResult, PageResult, StartedDeploy } from "../manifest/contract.ts";
import { buildConfig, checkModes, type ConfigWarning, type ServingConfigInput } from "../rules/config.ts";
import { variantPath } from "../rules/encoding.ts";
import { compileHashedFiles, isFingerprinted } from "../rules/fingerprint.ts";
import { MAX_PAGE_ENTRIES, MAX_SINGLE_UPLOAD_BYTES, MULTIPART_THRESHOLD } from "../shared/limits.ts";
import {
  checkCompatibilityDate,
  checkVarName,
  DEFAULT_COMPATIBILITY_DATE,
  type ServerSettings,
} from "../shared/server-code.ts";
import { bundleServer, type BuiltServer } from "./bundle.ts";
import { ApiError, type ApiClient } from "./client.ts";
import { contentTypeFor } from "./content-type.ts";
import { CliError, UsageError } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { hashFile, type FileHash } from "./hash.ts";
import { cacheHome, HashCache, nowNs } from "./hash-cache.ts";
import { BEST_FROM_BYTES, Compressor, type CompressStats, type Variant } from "./compress.ts";
import { Limiter, mapLimit } from "../shared/pool.ts";
import type { Progress } from "./progress.ts";
import { hashedFilesOf } from "./hashed.ts";
import { scanDirectory, type LocalFile } from "./scan.ts";
import { Uploader, type BlobToUpload, type UploadStats } from "./upload.ts";

/** Files hashed at once (hashing is CPU- and disk-bound). */
const HASH_CONCURRENCY = 4;
/** Manifest pages in flight at once. */
const PAGE_CONCURRENCY = 4;
/**
 * Files in the first manifest page, few enough that uploads start while
 * later pages are still being hashed. Each page after doubles, up to what
 * the API accepts: the platform records a large page at a lower cost per file.
 */
const FIRST_PAGE_FILES = 1000;
/**
 * Files in a page while compressing. A page waits for its files' variants,
 * so pages of thousands left the platform idle for seconds at a time
 * (10,000 small files, side by side: 8.9-9.4 s in pages of 500 or 1,000
 * against 10.6 s in pages growing to 4,000).
 */
const COMPRESSING_PAGE_FILES = 500;
/** Bytes of hashed files waiting for the compressor before hashing waits for it. */
const MAX_COMPRESS_BACKLOG_BYTES = 64 * 1024 * 1024;
/** Requests in flight at once while uploading, unless --concurrency says otherwise. */
export const DEFAULT_CONCURRENCY = 6;
/** A manifest page stays under this many bytes of JSON. */
const PAGE_BYTES = 2 * 1024 * 1024;

export interface DeployOptions {
  dir: string;
  project: string;
  message: string;
  /** Make the version live. */
  activate: boolean;
  /** Point this alias at the version. */
  alias?: string;
  config: ServingConfigInput;
  /** Uploads in flight at once. */
  concurrency?: number;
  /** Files larger than this are uploaded in parts. */
  multipartThreshold?: number;
  /** Server code to ship with the version. */
  server?: ServerOptions;
  /** Use and update the hash cache (see hash-cache.ts); on unless --no-cache. */
  cache?: boolean;
  /** A build manifest naming hashed outputs, beside those found in `dir` (see hashed.ts). */
  buildManifest?: string;
  /** Precompress text files (see compress.ts), but not those matching `exclude`; on unless --no-compress. */
  compress?: { enabled: boolean; exclude: string[] };
  /** Make a new version even if it would repeat the one it replaces. */
  force?: boolean;
}

export interface ServerOptions {
  entry: string;
  vars: Record<string, string>;
  compatibilityDate?: string;
  compatibilityFlags: string[];
}

export interface DeployResult {
  project: string;
  version: string;
  active: boolean;
  files: number;
  uploaded: number;
  skipped: number;
  bytesUploaded: number;
  url: string;
  /** Where this very version is served, live or not. */
  previewUrl: string;
  /** Parts of large files sent by this run, and parts that had arrived before it. */
  partsUploaded: number;
  partsSkipped: number;
  /** Files served immutable (their names carry a content fingerprint; see fingerprint.ts). */
  immutable: number;
  /** The files' bytes as deployed, and the bytes of their precompressed variants (and how many files have some). */
  bytes: number;
  compressedBytes: number;
  compressedFiles: number;
  /** The alias the deploy moved, and where it is served (only when it moved one). */
  alias?: string;
  aliasUrl?: string;
  /** The deploy repeated `version`: no version was made and nothing moved (see --force). */
  unchanged?: true;
}

/** What `deploy --dry-run` found: what a deploy would upload, and the configuration it would apply. */
export interface DryRunResult {
  project: string;
  dryRun: true;
  files: number;
  bytes: number;
  /** Blobs the platform lacks (the server bundle among them), and their bytes. */
  upload: { files: number; bytes: number };
  activate: boolean;
  alias: string | null;
  config: {
    html_handling: string;
    not_found_handling: string;
    redirects: number;
    headers: number;
    run_worker_first: boolean | string[];
  };
  server: { entry: string; bytes: number; vars: string[]; compatibilityDate: string } | null;
  /** The files that would be served immutable (their names carry a content fingerprint). */
  immutable: string[];
  warnings: ConfigWarning[];
}

type HashedFile = LocalFile & FileHash;

/**
 * Deploys `options.dir`. Progress goes to `progress`; warnings about
 * skipped lines of `_redirects` and `_headers` go to `warn` whatever the
 * output mode.
 */
export async function deploy(
  client: ApiClient,
  options: DeployOptions,
  progress: Progress,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<DeployResult> {
  // 1. Find the files; _redirects and _headers configure the version
  //    rather than being served.
  const { base, local, rules, server, cache, immutable } = await prepare(options, progress);
  const multipartThreshold = Math.min(options.multipartThreshold ?? MULTIPART_THRESHOLD, MAX_SINGLE_UPLOAD_BYTES);

  // 2. Open a deploy (creating the project on first use) while the first
  //    files are hashed: a wrong token or project stops the deploy within
  //    a page, and then the error is all that is printed.
  const stop: { failure: { error: unknown } | null } = { failure: null };
  const fail = (error: unknown): void => {
    stop.failure ??= { error };
  };
  const opening = openDeploy(client, base, { ...options, config: { ...options.config, ...rules } }, server).then(
    async (started) => {
      for (const warning of started.warnings) {
        warn(`warning: ${warning.file}:${warning.line}: ${warning.message}; the line is skipped`);
      }
      // The server bundle goes first: it is small, and the deploy names it.
      if (server && started.missing.includes(server.built.hash)) {
        await client.putBytes(`${base}/blobs/${server.built.hash}`, server.built.bytes);
      }
      progress.release();
      return started;
    },
  );
  progress.hold();
  opening.catch(fail);

  // 3. Hash the files a page at a time (those the hash cache vouches for
  //    are not read), send each page of the manifest as soon as it is
  //    hashed, and upload what its answer says is missing while later
  //    pages are hashed: small blobs in batches, large ones in resumable parts.
  const uploader = new Uploader(
    client,
    base,
    { concurrency: options.concurrency ?? DEFAULT_CONCURRENCY, multipartThreshold },
    progress,
  );
  const pagesInFlight = new Limiter(PAGE_CONCURRENCY);
  const sent: Promise<void>[] = [];
  const compressing = await openCompressor(options);
  const wantsCompressed = (file: LocalFile): boolean =>
    compressing?.compressor.wants(file.path, contentTypeFor(file.path), file.size) ?? false;
  const variantHashes = new Set<string>();
  let compressedBytes = 0;
  let compressedFiles = 0;
  // Each file's variants, asked for as soon as it is hashed, so that the
  // compressor works alongside the hashing rather than a page behind it.
  const variantsByFile = new Map<HashedFile, Promise<Variant[]>>();
  const files = await hashInPages(local, progress, cache, {
    onFile: (file, bytes) => {
      if (compressing && wantsCompressed(file)) {
        const made = compressing.compressor.variantsOf(file.file, file.hash, bytes);
        // Awaited when the file's page is sent; a failure is reported there.
        made.catch(() => undefined);
        variantsByFile.set(file, made);
      }
    },
    onPage: (page) => {
      const send = async (): Promise<void> => {
        const variants = await Promise.all(page.map((file) => variantsByFile.get(file) ?? Promise.resolve([])));
        page.forEach((file) => variantsByFile.delete(file));
        const { version } = await opening;
        const answer = await client.request<PageResult>("POST", `${base}/deploys/${version}/files`, {
          files: Object.fromEntries(
            page.map((file, i) => {
              const encodings = Object.fromEntries(
                (variants[i] ?? []).map((variant) => [variant.encoding, { hash: variant.hash, size: variant.size }]),
              );
              const entry = { hash: file.hash, size: file.size, contentType: contentTypeFor(file.path) };
              return [file.path, Object.keys(encodings).length > 0 ? { ...entry, encodings } : entry];
            }),
          ),
        });
        const byHash = new Map<string, BlobToUpload>(page.map((file) => [file.hash, file]));
        for (const [i, file] of page.entries()) {
          const made = variants[i] ?? [];
          compressedFiles += made.length > 0 ? 1 : 0;
          for (const variant of made) {
            compressedBytes += variant.size;
            variantHashes.add(variant.hash);
            byHash.set(variant.hash, { ...variant, path: variantPath(variant.encoding, file.path) });
          }
        }
        uploader.add(answer.missing.map((hash) => byHash.get(hash)).filter((file) => file !== undefined));
      };
      sent.push(pagesInFlight.run(send).catch(fail));
    },
    stopped: () => stop.failure !== null || uploader.failed,
    // A small file the compressor wants is compressed from the bytes just hashed.
    keep: (file) => file.size < BEST_FROM_BYTES && wantsCompressed(file),
    // A page is sent once its files' variants are made, and the compressor
    // runs behind the hashing: small pages keep the platform busy meanwhile.
    maxPageFiles: compressing ? COMPRESSING_PAGE_FILES : MAX_PAGE_ENTRIES,
    // The bytes kept for the compressor wait in memory until it takes them.
    ready: () => compressing?.compressor.backlogAtMost(MAX_COMPRESS_BACKLOG_BYTES) ?? Promise.resolve(),
  });
  await Promise.all(sent);
  if (compressing) {
    reportCompression(compressing.compressor.stats, progress);
  }
  // 4. Wait for the uploads the pages asked for (variants are read from
  //    disk as they go, so their directory is closed only then).
  let stats: UploadStats;
  try {
    if (stop.failure) {
      throw stop.failure.error;
    }
    uploader.showProgress();
    stats = await uploader.finish();
  } finally {
    await compressing?.close();
  }
  const started = await opening;
  const stored = new Set([...files.map((file) => file.hash), ...variantHashes]).size - stats.blobs;
  const resumed = stats.partsSkipped > 0 ? `; resumed, ${stats.partsSkipped} part(s) already uploaded` : "";
  progress.finish(
    `Uploaded ${stats.blobs} new file(s), ${formatBytes(stats.bytesUploaded)}; ${stored} already stored${resumed}`,
  );

  // 5. Finalize; the platform checks that every blob is there.
  const finalized = await client.request<FinalizeResult & { url: string; previewUrl: string; aliasUrl?: string }>(
    "POST",
    `${base}/deploys/${started.version}/finalize`,
    {
      activate: options.activate,
      ...(options.alias === undefined ? {} : { alias: options.alias }),
      ...(options.force ? { force: true } : {}),
    },
  );
  return {
    project: options.project,
    version: finalized.version,
    active: finalized.active,
    files: files.length,
    uploaded: stats.blobs,
    skipped: stored,
    bytesUploaded: stats.bytesUploaded,
    url: finalized.url,
    previewUrl: finalized.previewUrl,
    partsUploaded: stats.partsUploaded,
    partsSkipped: stats.partsSkipped,
    immutable: immutable.length,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    compressedBytes,
    compressedFiles,
    ...(finalized.alias === null ? {} : { alias: finalized.alias, aliasUrl: finalized.aliasUrl ?? "" }),
    ...(finalized.unchanged ? { unchanged: true as const } : {}),
  };
}

/**
 * The compressor a deploy uses, unless --no-compress: its variants live in
 * the cache directory, or (with --no-cache) in a directory of this run's.
 */
async function openCompressor(
  options: DeployOptions,
): Promise<{ compressor: Compressor; close: () => Promise<void> } | null> {
  if (options.compress?.enabled === false) {
    return null;
  }
  const exclude = options.compress?.exclude ?? [];
  if (options.cache === false) {
    const dir = await mkdtemp(join(tmpdir(), "r2-assets-variants-"));
    const compressor = await Compressor.open({ dir, exclude });
    return {
      compressor,
      close: async () => {
        await compressor.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const compressor = await Compressor.open({ dir: cacheHome(), exclude });
  return { compressor, close: () => compressor.save() };
}

function reportCompression(stats: CompressStats, progress: Progress): void {
  if (stats.files === 0 && stats.reused === 0) {
    return;
  }
  const ratios = Object.entries(stats.bytesOut)
    .map(([encoding, bytes]) => `${encoding} ${formatBytes(bytes ?? 0)}`)
    .join(", ");
  const made =
    stats.files > 0
      ? `Compressed ${stats.files} file(s), ${formatBytes(stats.bytesIn)} → ${ratios}, in ${(stats.ms / 1000).toFixed(1)} s`
      : "Compressed nothing new";
  progress.note(`${made}${stats.reused > 0 ? `; ${stats.reused} file(s) unchanged since compressed` : ""}`);
}

/** What a deploy works from, found before anything is sent. */
interface Prepared {
  base: string;
  local: LocalFile[];
  cache: HashCache | null;
  rules: Pick<ServingConfigInput, "redirects" | "headers" | "hashed">;
  server?: ServerToDeploy;
  /** The files that will be served immutable. */
  immutable: string[];
}

/** Checks the options, finds the files and rule files, and bundles the server code. */
async function prepare(options: DeployOptions, progress: Progress): Promise<Prepared> {
  const checked = checkModes(options.config);
  if (!checked.ok) {
    const field = typeof checked.failure.details?.field === "string" ? checked.failure.details.field : "config";
    throw new UsageError(`--${field.replaceAll("_", "-")}: ${checked.failure.message}`);
  }
  const rules = await readRuleFiles(options.dir);
  const server = options.server ? await buildServer(options.server, progress) : undefined;
  const scanned = nowNs();
  const local = (await scanDirectory(options.dir)).filter((file) => !RULE_FILES.has(file.path));
  if (local.length === 0) {
    throw new CliError(`${options.dir} has no files to deploy`);
  }
  const cache = options.cache === false ? null : await HashCache.open(options.dir, scanned);
  const paths = local.map((file) => file.path);
  const hashed = await hashedFilesOf(options.dir, paths, options.buildManifest);
  const compiled = compileHashedFiles(hashed);
  const immutable = paths.filter((path) => isFingerprinted(path, compiled));
  return {
    base: `/api/projects/${options.project}`,
    local,
    rules: { ...rules, hashed },
    cache,
    immutable,
    ...(server ? { server } : {}),
  };
}

/** `deploy --dry-run`: hashes, asks the platform what it lacks, and changes nothing. */
export async function planDeploy(client: ApiClient, options: DeployOptions, progress: Progress): Promise<DryRunResult> {
  const found = await prepare(options, progress);
  const { base } = found;
  const built = buildConfig({ ...options.config, ...found.rules });
  if (!built.ok) {
    const field = typeof built.failure.details?.field === "string" ? built.failure.details.field : "config";
    throw new CliError(`${field}: ${built.failure.message}`);
  }
  const files = await hashInPages(found.local, progress, found.cache);
  const bySize = new Map(files.map((file) => [file.hash, file.size]));
  if (found.server) {
    bySize.set(found.server.built.hash, found.server.built.bytes.length);
  }
  const hashes = [...bySize.keys()];
  const missing: string[] = [];
  for (let start = 0; start < hashes.length; start += MAX_PAGE_ENTRIES) {
    const page = hashes.slice(start, start + MAX_PAGE_ENTRIES);
    try {
      missing.push(
        ...(await client.request<{ missing: string[] }>("POST", `${base}/blobs/missing`, { hashes: page })).missing,
      );
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "project_not_found") {
        throw error;
      }
      // A new project: everything would be uploaded.
      missing.push(...page);
    }
  }
  const { config } = built.value;
  return {
    project: options.project,
    dryRun: true,
    files: files.length,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    upload: { files: missing.length, bytes: missing.reduce((sum, hash) => sum + (bySize.get(hash) ?? 0), 0) },
    activate: options.activate,
    alias: options.alias ?? null,
    config: {
      html_handling: config.html_handling,
      not_found_handling: config.not_found_handling,
      redirects: Object.keys(config.redirects.static).length + config.redirects.dynamic.length,
      headers: config.headers.length,
      run_worker_first: config.run_worker_first,
    },
    server: found.server
      ? {
          entry: options.server?.entry ?? "",
          bytes: found.server.built.bytes.length,
          vars: Object.keys(found.server.settings.vars),
          compatibilityDate: found.server.settings.compatibilityDate,
        }
      : null,
    immutable: found.immutable,
    warnings: built.value.warnings,
  };
}

/**
 * Hashes every file the cache does not vouch for, a manifest page at a
 * time, handing each file to `onFile` as soon as it is hashed (with the
 * bytes read to hash it if `keep` wants them, held for it alone) and each
 * page to `onPage` once all of its files are; waits for `ready` before
 * each page and stops early when `stopped` says so. Shows progress and
 * saves the cache.
 */
async function hashInPages(
  local: readonly LocalFile[],
  progress: Progress,
  cache: HashCache | null,
  {
    onFile = () => {},
    onPage = () => {},
    stopped = () => false,
    keep = () => false,
    ready = () => Promise.resolve(),
    maxPageFiles = MAX_PAGE_ENTRIES,
  }: PageHooks = {},
): Promise<HashedFile[]> {
  const known = new Map(local.map((file) => [file, cache?.get(file) ?? null]));
  const toHash = local.filter((file) => known.get(file) === null);
  const totalBytes = toHash.reduce((sum, file) => sum + file.size, 0);
  progress.start("Hashing", toHash.length, totalBytes);
  const files: HashedFile[] = [];
  for (const page of pages(local, maxPageFiles)) {
    if (stopped()) {
      break;
    }
    await ready();
    const hashed = await mapLimit(page, HASH_CONCURRENCY, async (file): Promise<HashedFile> => {
      const vouched = known.get(file);
      if (vouched) {
        const done = { ...file, ...vouched };
        onFile(done);
        return done;
      }
      const { bytes, ...result } = await hashFile(file.file, (read) => progress.advance(0, read), keep(file));
      cache?.set(file, result);
      progress.advance(1, 0);
      const done = { ...file, ...result };
      onFile(done, bytes);
      return done;
    });
    files.push(...hashed);
    onPage(hashed);
  }
  const reused = local.length - toHash.length;
  progress.finish(
    `Hashed ${toHash.length} file(s), ${formatBytes(totalBytes)}${reused > 0 ? `; ${reused} unchanged since the last hash` : ""}`,
  );
  await cache?.save().catch((error: unknown) => {
    progress.note(`warning: could not save the hash cache: ${(error as Error).message}`);
  });
  return files;
}

/** What `hashInPages` tells its caller as it goes, and asks it. */
interface PageHooks {
  onFile?: (file: HashedFile, bytes?: Buffer) => void;
  onPage?: (page: HashedFile[]) => void;
  stopped?: () => boolean;
  keep?: (file: LocalFile) => boolean;
  /** Awaited before each page is hashed. */
  ready?: () => Promise<void>;
  /** The most files a page holds (its first holds at most FIRST_PAGE_FILES). */
  maxPageFiles?: number;
}

type OpenedDeploy = StartedDeploy & { warnings: ConfigWarning[] };

/** Server code, bundled, and how to run it. */
interface ServerToDeploy {
  built: BuiltServer;
  settings: ServerSettings;
}

const RULE_FILES = new Set(["/_redirects", "/_headers"]);

/** The text of `_redirects` and `_headers` at the root of `dir`, if there. */
async function readRuleFiles(dir: string): Promise<Pick<ServingConfigInput, "redirects" | "headers">> {
  const read = (name: string): Promise<string | undefined> => readFile(join(dir, name), "utf8").catch(() => undefined);
  const [redirects, headers] = await Promise.all([read("_redirects"), read("_headers")]);
  return { ...(redirects === undefined ? {} : { redirects }), ...(headers === undefined ? {} : { headers }) };
}

async function buildServer(server: ServerOptions, progress: Progress): Promise<ServerToDeploy> {
  for (const name of Object.keys(server.vars)) {
    const problem = checkVarName(name);
    if (problem) {
      throw new UsageError(`--var ${name}: ${problem}`);
    }
  }
  const date = server.compatibilityDate ?? DEFAULT_COMPATIBILITY_DATE;
  const dateProblem = checkCompatibilityDate(date);
  if (dateProblem) {
    throw new UsageError(`--compatibility-date: ${dateProblem}`);
  }
  const settings = { compatibilityDate: date, compatibilityFlags: server.compatibilityFlags, vars: server.vars };
  progress.note(`Bundling the server code from ${server.entry}`);
  const built = await bundleServer(server.entry, settings);
  progress.note(`Bundled ${built.files.length} server file(s) into ${formatBytes(built.bytes.length)}`);
  return { built, settings };
}

async function openDeploy(
  client: ApiClient,
  base: string,
  options: DeployOptions,
  server?: ServerToDeploy,
): Promise<OpenedDeploy> {
  const body = {
    message: options.message,
    config: options.config,
    server: server && {
      bundle: { hash: server.built.hash, size: server.built.bytes.length },
      vars: server.settings.vars,
      compatibility_date: server.settings.compatibilityDate,
      compatibility_flags: server.settings.compatibilityFlags,
    },
  };
  try {
    return await client.request<OpenedDeploy>("POST", `${base}/deploys`, body, { retry: false });
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "project_not_found") {
      throw error;
    }
  }
  try {
    await client.request("PUT", base, {});
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      throw new CliError(`project ${options.project} does not exist, and only the admin token can create it`);
    }
    throw error;
  }
  return client.request<OpenedDeploy>("POST", `${base}/deploys`, body, { retry: false });
}

/**
 * Splits the manifest into pages the API accepts, growing from
 * FIRST_PAGE_FILES files up to `maxFiles`.
 */
function* pages<T extends { path: string }>(files: readonly T[], maxFiles: number): Generator<T[]> {
  let page: T[] = [];
  let bytes = 0;
  let limit = Math.min(FIRST_PAGE_FILES, maxFiles);
  for (const file of files) {
    // Path, hash, size and JSON punctuation.
    const entryBytes = Buffer.byteLength(JSON.stringify(file.path)) + 100;
    if (page.length === limit || bytes + entryBytes > PAGE_BYTES) {
      yield page;
      page = [];
      bytes = 0;
      limit = Math.min(limit * 2, maxFiles);
    }
    page.push(file);
    bytes += entryBytes;
  }
  if (page.length > 0) {
    yield page;
  }
}
