/**
 * Reading finalized versions' manifest snapshots at the edge (the format
 * is src/shared/snapshot.ts): a path this isolate has never served is
 * looked up in a page of its version's snapshot, found decoded in the
 * isolate (an LRU bounded in bytes), else in the location's Cache API,
 * else in R2. No Durable Object is asked, for files that exist or not.
 */
import { BlobStore } from "../blob/r2-store.ts";
import type { Env } from "../env.ts";
import type { FileRef } from "../manifest/contract.ts";
import { Flights } from "../shared/flights.ts";
import { SNAPSHOT_CACHE_BYTES, SNAPSHOT_CACHE_ENTRIES } from "../shared/limits.ts";
import { Lru } from "../shared/lru.ts";
import { decodePage, pageOf, pathHash, type SnapshotPage } from "../shared/snapshot.ts";
import { stats } from "./stats.ts";

/** Where pages are kept in the Cache API: a domain no visitor can reach. */
const ORIGIN = "https://snapshots.r2-assets.invalid";

/** How long a location keeps a page (pages never change; a deleted version's are not asked for again). */
const CACHE_SECONDS = 24 * 60 * 60;

const pages = new Lru<SnapshotPage>({
  maxEntries: SNAPSHOT_CACHE_ENTRIES,
  maxBytes: SNAPSHOT_CACHE_BYTES,
  sizeOf: (page) => page.byteLength,
});
const loading = new Flights<SnapshotPage | null>();

/**
 * The files among `paths` that a version has, from its snapshot (split
 * into 2^bits pages); null if a page is missing (the version has just been
 * deleted, say), so that the caller asks the Durable Object instead.
 */
export async function filesFromSnapshot(
  env: Env,
  target: { project: string; version: string; bits: number },
  paths: readonly string[],
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<Map<string, FileRef> | null> {
  const byPage = new Map<number, string[]>();
  for (const path of paths) {
    const page = pageOf(pathHash(path), target.bits);
    byPage.set(page, [...(byPage.get(page) ?? []), path]);
  }
  const files = new Map<string, FileRef>();
  for (const [page, wanted] of byPage) {
    const loaded = await loadPage(env, target, page, waitUntil);
    if (!loaded) {
      return null;
    }
    for (const path of wanted) {
      const file = loaded.find(path);
      if (file) {
        files.set(path, file);
      }
    }
  }
  return files;
}

function loadPage(
  env: Env,
  { project, version }: { project: string; version: string },
  page: number,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<SnapshotPage | null> {
  const key = `${project}\n${version}\n${page}`;
  const held = pages.get(key);
  if (held) {
    stats.pageHits += 1;
    return Promise.resolve(held);
  }
  return loading.run(key, async () => {
    const url = `${ORIGIN}/${encodeURIComponent(project)}/${version}/${page}`;
    // The Cache API is a shortcut, never a dependency: if it fails, R2 answers.
    const cached = await caches.default.match(url).catch(() => undefined);
    let bytes: Uint8Array | null;
    if (cached) {
      stats.pageCacheHits += 1;
      bytes = new Uint8Array(await cached.arrayBuffer());
    } else {
      stats.pageReads += 1;
      bytes = await new BlobStore(env.BLOBS, project).snapshotPage(version, page);
      if (bytes) {
        const response = new Response(bytes.slice(), { headers: { "cache-control": `max-age=${CACHE_SECONDS}` } });
        waitUntil(caches.default.put(url, response).catch(() => undefined));
      }
    }
    if (!bytes) {
      return null;
    }
    const decoded = decodePage(bytes);
    pages.set(key, decoded);
    return decoded;
  });
}
