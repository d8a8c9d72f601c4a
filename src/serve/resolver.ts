/**
 * Resolving a request to a project into a routing decision, in two steps
 * that ask the project's Durable Object only for what this isolate does
 * not know yet:
 * 1. which version the request's target names, with that version's
 *    routing (compiled configuration, server code): the version is leased
 *    (src/shared/lease.ts), renewed at its end in the background and shared
 *    with the location's other isolates (location.ts), so that steady
 *    traffic never waits and a location asks at most once a lease; the routing is
 *    immutable and kept per version;
 * 2. which files the decision may look at: immutable for a version, read
 *    from its manifest snapshot (snapshots.ts), and asked of the Durable
 *    Object only for a version that has none yet.
 * The decision for each request shape (its path, its host where `_headers`
 * names hosts, whether it is a navigation where that matters) is kept in
 * an LRU. A warm request costs no call; a cold one, none once the version
 * is known.
 */
import { pointerLeaseMs, type Env, type ManifestStub } from "../env.ts";
import type {
  FileRef,
  LookupAnswer,
  LookupQuery,
  ServedFile,
  ServerRef,
  Target,
  Unavailable,
} from "../manifest/contract.ts";
import { compileConfig, type CompiledConfig } from "../rules/config.ts";
import type { Decision } from "../rules/decision.ts";
import { ENCODINGS, variantPath, type Encoding } from "../rules/encoding.ts";
import { dependsOnNavigation, lookupsFor, routeRequest, type RequestShape } from "../rules/route.ts";
import {
  ANSWER_CACHE_BYTES,
  ANSWER_CACHE_ENTRIES,
  CONFIG_CACHE_BYTES,
  CONFIG_CACHE_ENTRIES,
  LEASE_CACHE_ENTRIES,
} from "../shared/limits.ts";
import {
  answered,
  claimWindow,
  freshness,
  dueForRenewal,
  graceAsked,
  LeaseCache,
  renewedSince,
  worthAdopting,
  type Leased,
} from "../shared/lease.ts";
import { claimOrWaitRenewal, readShared, writeShared } from "../storage/location.ts";
import { Flights } from "../shared/flights.ts";
import { Lru } from "../shared/lru.ts";
import { filesFromSnapshot } from "./snapshots.ts";
import { stats } from "./stats.ts";

/** A version's configuration, compiled for matching. */
export interface VersionRouting {
  compiled: CompiledConfig;
  server: ServerRef | null;
  /** How its manifest snapshot is split, once it has one (see snapshots.ts). */
  snapshotBits: number | null;
  /** Roughly what it holds in memory. */
  bytes: number;
}

/** What a request gets, whatever its query string and method (both apply when it is answered). */
export type Answer = Decision<ServedFile, ServerRef>;

export type Resolution<A extends Answer = Answer> =
  | { kind: "unavailable"; reason: Unavailable }
  | { kind: "resolved"; version: string; routing: VersionRouting; answer: A; cache: "hit" | "miss" };

export interface ResolveRequest {
  project: string;
  target: Target;
  /** `site`: the platform routes the request, so server code may answer; `assets`: the version's ASSETS binding. */
  via: "site" | "assets";
  url: URL;
  navigate: boolean;
}

/** What a target names, as leased. */
type TargetState = { ok: true; version: string } | { ok: false; reason: Unavailable };

// Per isolate: every request this isolate serves shares them.
const targets = new LeaseCache<TargetState>(LEASE_CACHE_ENTRIES);
/** The version a target named when last asked, lease or not: most likely what it names now. */
const lastSeen = new Lru<string>({ maxEntries: LEASE_CACHE_ENTRIES });
const routings = new Lru<VersionRouting>({
  maxEntries: CONFIG_CACHE_ENTRIES,
  maxBytes: CONFIG_CACHE_BYTES,
  sizeOf: (routing) => routing.bytes,
});
const answers = new Lru<Answer>({
  maxEntries: ANSWER_CACHE_ENTRIES,
  maxBytes: ANSWER_CACHE_BYTES,
  sizeOf: (answer, key) => key.length + (answer.kind === "server" ? 16 : JSON.stringify(answer).length),
});
/** Questions under way, so that a burst of cold requests asks once. */
const inflight = new Flights<Resolution>();
/** Lease renewals under way, by target. */
const renewals = new Flights<TargetState>();
/** Versions' routing being fetched, by version. */
const fetching = new Flights<VersionRouting | Unavailable>();

/** Work a request may leave running after it answers (ExecutionContext.waitUntil). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** Through a version's ASSETS binding, server code never answers. */
export function resolve(
  env: Env,
  request: ResolveRequest & { via: "assets" },
  waitUntil: WaitUntil,
): Promise<Resolution<Exclude<Answer, { kind: "server" }>>>;
export function resolve(env: Env, request: ResolveRequest, waitUntil: WaitUntil): Promise<Resolution>;
export async function resolve(env: Env, request: ResolveRequest, waitUntil: WaitUntil): Promise<Resolution> {
  const targetKey = keyOf(
    request.project,
    "pointer" in request.target ? request.target.pointer : `@${request.target.version}`,
  );
  // A leased version deleted since (pruned while its lease runs) is
  // forgotten and the target asked again, once.
  for (let attempt = 0; ; attempt += 1) {
    const state = await locate(env, request, targetKey, waitUntil);
    if (!state.ok) {
      return { kind: "unavailable", reason: state.reason };
    }
    const cached = cachedAnswer(request, state.version);
    if (cached) {
      stats.answerHits += 1;
      return cached;
    }
    const flightKey = [
      targetKey,
      state.version,
      request.via,
      request.navigate,
      request.url.hostname,
      request.url.pathname,
    ];
    const resolution = await inflight.run(flightKey.join("\n"), () =>
      answerAfresh(env, request, state.version, waitUntil),
    );
    if (resolution.kind === "resolved" || attempt > 0 || !("pointer" in request.target)) {
      return resolution;
    }
    targets.delete(targetKey);
  }
}

/** Step 1: the version the target names, on the lease this isolate (or its location) holds, else asked. */
async function locate(
  env: Env,
  request: ResolveRequest,
  targetKey: string,
  waitUntil: WaitUntil,
): Promise<TargetState> {
  const leaseMs = pointerLeaseMs(env);
  const now = Date.now();
  const held = targets.peek(targetKey, now, leaseMs);
  if (held) {
    if (freshness(held, now, leaseMs) === "renew" && !renewals.has(targetKey)) {
      waitUntil(renewLease(env, request, targetKey, waitUntil).catch(() => undefined));
    }
    return held.value;
  }
  // Another isolate of this location may have asked lately.
  const shared = await adoptShared(env, targetKey, undefined);
  if (shared) {
    return shared.value;
  }
  stats.renewalWaits += 1;
  return renewLease(env, request, targetKey, waitUntil);
}

/**
 * Takes the location's lease on a target when it is newer than `held` and
 * still fresh (or, with nothing held, not yet run out).
 */
async function adoptShared(
  env: Env,
  targetKey: string,
  held: Leased<TargetState> | undefined,
): Promise<Leased<TargetState> | null> {
  const shared = await readShared<TargetState>(targetKey);
  if (!shared || !worthAdopting(shared, held, Date.now(), pointerLeaseMs(env))) {
    return null;
  }
  stats.locationHits += 1;
  learn(targetKey, shared);
  return shared;
}

/** Records what a target names, as leased. */
function learn(targetKey: string, lease: Leased<TargetState>): void {
  targets.set(targetKey, lease);
  if (lease.value.ok) {
    lastSeen.set(targetKey, lease.value.version);
  }
}

/**
 * Renews the lease on a target: from the location if another isolate asked
 * lately, else by asking which version it names now, with its
 * configuration unless this isolate has it. One renewal per target at a
 * time, whoever waits on it.
 */
function renewLease(env: Env, request: ResolveRequest, targetKey: string, waitUntil: WaitUntil): Promise<TargetState> {
  return renewals.run(targetKey, async (): Promise<TargetState> => {
    const leaseMs = pointerLeaseMs(env);
    // Armed ahead: asks when the lease runs, serving on its grace meanwhile.
    const armed = targets.peek(targetKey, Date.now(), leaseMs);
    const dueAt = await dueForRenewal(armed, leaseMs);
    const held = targets.peek(targetKey, Date.now(), leaseMs);
    if (held && renewedSince(armed, held)) {
      return held.value;
    }
    const shared = await adoptShared(env, targetKey, held);
    if (shared) {
      return shared.value;
    }
    if (held && !(await claimOrWaitRenewal(targetKey, claimWindow(held)))) {
      return ((await adoptShared(env, targetKey, held)) ?? held).value;
    }
    const graceMs = graceAsked(held, leaseMs, Date.now() - dueAt);
    const askedAt = Date.now();
    stats.leaseRefreshes += 1;
    const guess = lastSeen.get(targetKey);
    const known = guess !== undefined && routings.get(keyOf(request.project, guess)) ? [guess] : [];
    const answer = await callLookup(env.MANIFEST.getByName(request.project), {
      target: request.target,
      paths: [],
      known,
      graceMs,
    });
    const state: TargetState = answer.ok ? { ok: true, version: answer.value.version } : answer;
    if (answer.ok && answer.value.config) {
      keepRouting(request.project, answer.value.version, answer.value.config, answer.value.snapshotBits);
    }
    const lease = answered(state, askedAt, graceMs, Date.now(), held, dueAt);
    learn(targetKey, lease);
    waitUntil(writeShared(targetKey, lease, leaseMs + graceMs));
    return state;
  });
}

/** Step 2: the decision for a request to `version`, with the files it may look at. */
async function answerAfresh(
  env: Env,
  request: ResolveRequest,
  version: string,
  waitUntil: WaitUntil,
): Promise<Resolution> {
  const routing = await routingOf(env, request.project, version);
  if (typeof routing === "string") {
    return { kind: "unavailable", reason: routing };
  }
  const url = withoutQuery(request.url);
  const paths = lookupsFor(url, routing.compiled);
  // Each file's variants are asked for with it (they share its snapshot page).
  const variants = paths.flatMap((path) => ENCODINGS.map((encoding) => variantPath(encoding, path)));
  const files = await filesOf(env, request.project, version, routing, [...paths, ...variants], waitUntil);
  if (typeof files === "string") {
    return { kind: "unavailable", reason: files };
  }
  const answer = routeRequest(url, routing.compiled, (path) => served(files, path), shapeOf(request, routing));
  answers.set(answerKey(request, version, routing), answer);
  stats.answerMisses += 1;
  return { kind: "resolved", version, routing, answer, cache: "miss" };
}

/** A version's routing: kept here, else asked for (a version this isolate evicted, or never saw). */
async function routingOf(env: Env, project: string, version: string): Promise<VersionRouting | Unavailable> {
  const key = keyOf(project, version);
  const kept = routings.get(key);
  if (kept) {
    return kept;
  }
  return fetching.run(key, async () => {
    const answer = await callLookup(env.MANIFEST.getByName(project), { target: { version }, paths: [], known: [] });
    if (!answer.ok) {
      return answer.reason;
    }
    const { config, snapshotBits } = answer.value;
    return config ? keepRouting(project, version, config, snapshotBits) : "no-such-version";
  });
}

function keepRouting(
  project: string,
  version: string,
  config: NonNullable<Extract<LookupAnswer, { ok: true }>["value"]["config"]>,
  snapshotBits: number | null,
): VersionRouting {
  const routing = {
    compiled: compileConfig(config.serving),
    server: config.server,
    snapshotBits,
    bytes: JSON.stringify(config).length,
  };
  routings.set(keyOf(project, version), routing);
  return routing;
}

/** The files among `paths` that `version` has: from its snapshot, or from the Durable Object while it has none. */
async function filesOf(
  env: Env,
  project: string,
  version: string,
  routing: VersionRouting,
  paths: string[],
  waitUntil: WaitUntil,
): Promise<ReadonlyMap<string, FileRef> | Unavailable> {
  if (routing.snapshotBits !== null) {
    const files = await filesFromSnapshot(env, { project, version, bits: routing.snapshotBits }, paths, waitUntil);
    if (files) {
      return files;
    }
  }
  const answer = await callLookup(env.MANIFEST.getByName(project), { target: { version }, paths, known: [version] });
  if (!answer.ok) {
    return answer.reason;
  }
  // A version finalized before snapshots existed gets one written later.
  routing.snapshotBits ??= answer.value.snapshotBits;
  return new Map(answer.value.files.map((file) => [file.path, file]));
}

/** The file at `path`, with the variants stored beside it. */
function served(files: ReadonlyMap<string, FileRef>, path: string): ServedFile | null {
  const file = files.get(path);
  if (!file) {
    return null;
  }
  const encodings: Partial<Record<Encoding, FileRef>> = {};
  for (const encoding of ENCODINGS) {
    const variant = files.get(variantPath(encoding, path));
    if (variant) {
      encodings[encoding] = variant;
    }
  }
  return Object.keys(encodings).length > 0 ? { ...file, encodings } : file;
}

function cachedAnswer(request: ResolveRequest, version: string): Resolution | undefined {
  const routing = routings.get(keyOf(request.project, version));
  if (!routing) {
    return undefined;
  }
  const answer = answers.get(answerKey(request, version, routing));
  return answer && { kind: "resolved", version, routing, answer, cache: "hit" };
}

function shapeOf(request: ResolveRequest, routing: VersionRouting): RequestShape<ServerRef> {
  const server = request.via === "site" ? routing.server : null;
  return { server, navigate: dependsOnNavigation(routing.compiled, server) && request.navigate };
}

/** What an answer depends on, beside the version: nothing else may go into it. */
function answerKey(request: ResolveRequest, version: string, routing: VersionRouting): string {
  const shape = shapeOf(request, routing);
  const host = routing.compiled.hostRules ? request.url.hostname : "";
  return [request.project, version, request.via, shape.navigate ? "nav" : "", host, request.url.pathname].join("\n");
}

async function callLookup(manifest: ManifestStub, query: LookupQuery): Promise<LookupAnswer> {
  stats.manifestCalls += 1;
  return manifest.lookup(query);
}

function withoutQuery(url: URL): URL {
  const bare = new URL(url);
  bare.search = "";
  bare.hash = "";
  return bare;
}

function keyOf(project: string, name: string): string {
  return `${project}\n${name}`;
}
