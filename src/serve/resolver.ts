/**
 * Resolving a request to a project into an answer, asking the project's
 * Durable Object only for what this isolate does not know yet:
 * - which version a pointer names, or that a version exists: leased (see
 *   lease.ts), so that activations and deletions take effect everywhere;
 * - a version's configuration: immutable, kept per version;
 * - the answer for a request's shape (its path, its host where `_headers`
 *   names hosts, whether it is a navigation where that matters): immutable
 *   for a version, kept in an LRU.
 * A cold request costs one call to the Durable Object (two when a
 * `_redirects` rewrite leads where the first could not foresee); a warm one
 * none. Leases are renewed ahead, in the background, and shared with the
 * location's other isolates (location.ts), so that steady traffic never
 * waits and a location asks about once a lease.
 */
import { pointerLeaseMs, type Env, type ManifestStub } from "../env.ts";
import type { FileRef, Lookup, LookupQuery, ServerRef, Target, Unavailable } from "../manifest/contract.ts";
import type { Outcome } from "../errors.ts";
import { compileConfig, type CompiledConfig } from "../rules/config.ts";
import type { HeaderOp } from "../rules/headers.ts";
import type { RedirectStatus } from "../rules/redirects.ts";
import { dependsOnNavigation, lookupsFor, routeRequest, type Decision, type RequestShape } from "../rules/route.ts";
import {
  ANSWER_CACHE_BYTES,
  ANSWER_CACHE_ENTRIES,
  CONFIG_CACHE_BYTES,
  CONFIG_CACHE_ENTRIES,
  LEASE_CACHE_ENTRIES,
} from "../shared/limits.ts";
import { freshness, LeaseCache, RENEW_SPREAD, worthAdopting, type Leased } from "../shared/lease.ts";
import { claimRenewal, readShared, writeShared } from "../storage/location.ts";
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
export type Answer =
  | { kind: "server" }
  | { kind: "asset"; file: FileRef; status: 200 | 404; headers: HeaderOp[] }
  | { kind: "redirect"; location: string; status: Exclude<RedirectStatus, 200>; rule: boolean; headers: HeaderOp[] }
  | { kind: "none"; headers: HeaderOp[] };

export type Resolution =
  | { kind: "unavailable"; reason: Unavailable }
  | { kind: "resolved"; version: string; routing: VersionRouting; answer: Answer; cache: "hit" | "miss" };

export interface ResolveRequest {
  project: string;
  target: Target;
  /** `site`: the platform routes the request, so server code may answer; `assets`: the version's ASSETS binding. */
  via: "site" | "assets";
  url: URL;
  navigate: boolean;
}

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

/** Work a request may leave running after it answers (ExecutionContext.waitUntil). */
export type WaitUntil = (promise: Promise<unknown>) => void;

export async function resolve(env: Env, request: ResolveRequest, waitUntil: WaitUntil): Promise<Resolution> {
  const targetKey = keyOf(
    request.project,
    "pointer" in request.target ? request.target.pointer : `@${request.target.version}`,
  );
  const leaseMs = pointerLeaseMs(env);
  const now = Date.now();
  const held = targets.peek(targetKey, now, leaseMs);
  let state = held?.value;
  if (held && freshness(held.askedAt, now, leaseMs) === "renew") {
    const guess = held.value.ok ? held.value.version : lastSeen.get(targetKey);
    waitUntil(renewLease(env, request, targetKey, guess, waitUntil).catch(() => undefined));
  }
  if (!state) {
    // Another isolate of this location may have asked lately.
    state = (await adoptShared(env, targetKey, undefined))?.value;
  }
  if (!state) {
    // Without a lease, the target most likely still names what it named
    // last: if this request's answer for that version is known, only the
    // lease needs renewing, once for every request that is waiting on it.
    const guess = lastSeen.get(targetKey);
    const guessSnapshot =
      guess === undefined ? null : (routings.get(keyOf(request.project, guess))?.snapshotBits ?? null);
    if (guess !== undefined && (cachedAnswer(request, guess) || guessSnapshot !== null)) {
      stats.renewalWaits += 1;
      state = await renewLease(env, request, targetKey, guess, waitUntil);
    }
  }
  if (state && !state.ok) {
    return { kind: "unavailable", reason: state.reason };
  }
  const cached = state ? cachedAnswer(request, state.version) : undefined;
  if (cached) {
    stats.answerHits += 1;
    return cached;
  }
  const flightKey = [targetKey, request.via, request.navigate, request.url.hostname, request.url.pathname].join("\n");
  const leased = state?.version;
  return inflight.run(flightKey, () => ask(env, request, targetKey, leased, waitUntil));
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
  if (!shared || !worthAdopting(shared.askedAt, held?.askedAt, Date.now(), pointerLeaseMs(env))) {
    return null;
  }
  stats.locationHits += 1;
  learn(targetKey, shared.value, shared.askedAt);
  return shared;
}

/** Records what a target names, learned at `askedAt`. */
function learn(targetKey: string, state: TargetState, askedAt: number): void {
  targets.set(targetKey, state, askedAt);
  if (state.ok) {
    lastSeen.set(targetKey, state.version);
  }
}

/**
 * Renews the lease on a target: from the location if another isolate asked
 * lately, else by asking which version it names now (and nothing else).
 * One renewal per target at a time, whoever waits on it.
 */
function renewLease(
  env: Env,
  request: ResolveRequest,
  targetKey: string,
  guess: string | undefined,
  waitUntil: WaitUntil,
): Promise<TargetState> {
  return renewals.run(targetKey, async (): Promise<TargetState> => {
    const leaseMs = pointerLeaseMs(env);
    const held = targets.peek(targetKey, Date.now(), leaseMs);
    const shared = await adoptShared(env, targetKey, held);
    if (shared) {
      return shared.value;
    }
    // Ahead of time, one isolate of the location asks for all of them.
    if (held && !(await claimRenewal(targetKey, leaseMs * RENEW_SPREAD))) {
      return held.value;
    }
    const askedAt = Date.now();
    stats.leaseRefreshes += 1;
    const outcome = await callLookup(env.MANIFEST.getByName(request.project), {
      target: request.target,
      paths: [],
      known: guess === undefined ? [] : [guess],
    });
    const state: TargetState = outcome.ok
      ? { ok: true, version: outcome.value.version }
      : { ok: false, reason: unavailableReason(outcome.failure.details?.reason) };
    learn(targetKey, state, askedAt);
    waitUntil(writeShared(targetKey, { value: state, askedAt }, leaseMs));
    if (outcome.ok && outcome.value.config) {
      routingOf(request.project, outcome.value);
    }
    return state;
  });
}

async function ask(
  env: Env,
  request: ResolveRequest,
  targetKey: string,
  leased: string | undefined,
  waitUntil: WaitUntil,
): Promise<Resolution> {
  const url = withoutQuery(request.url);
  // A version known here with a snapshot answers for any path without a call.
  const known = leased === undefined ? undefined : routings.get(keyOf(request.project, leased));
  if (leased !== undefined && known && known.snapshotBits !== null) {
    const target = { project: request.project, version: leased, bits: known.snapshotBits };
    const files = await filesFromSnapshot(env, target, lookupsFor(url, known.compiled), waitUntil);
    if (files) {
      return decide(request, url, leased, known, files);
    }
  }
  const manifest = env.MANIFEST.getByName(request.project);
  // The files to ask for follow the configuration of the version most
  // likely to answer: the leased one, or the one the target named last.
  const guess = leased ?? lastSeen.get(targetKey);
  const guessRouting = guess === undefined ? undefined : routings.get(keyOf(request.project, guess));
  const paths = lookupsFor(url, guessRouting?.compiled ?? null);
  const askedAt = Date.now();
  const outcome = await callLookup(manifest, {
    target: leased === undefined ? request.target : { version: leased },
    paths,
    known: guess !== undefined && guessRouting ? [guess] : [],
  });
  if (!outcome.ok) {
    if (leased !== undefined && "pointer" in request.target) {
      // The leased version has gone since (pruned or deleted): ask the pointer again.
      targets.delete(targetKey);
      return ask(env, request, targetKey, undefined, waitUntil);
    }
    const reason = unavailableReason(outcome.failure.details?.reason);
    learn(targetKey, { ok: false, reason }, askedAt);
    waitUntil(writeShared(targetKey, { value: { ok: false, reason }, askedAt }, pointerLeaseMs(env)));
    return { kind: "unavailable", reason };
  }
  const found = outcome.value;
  if (leased === undefined || "version" in request.target) {
    const state: TargetState = { ok: true, version: found.version };
    learn(targetKey, state, askedAt);
    waitUntil(writeShared(targetKey, { value: state, askedAt }, pointerLeaseMs(env)));
  }
  const routing = routingOf(request.project, found);
  const cached = cachedAnswer(request, found.version);
  if (cached) {
    stats.answerHits += 1;
    return cached;
  }

  // What the version's own configuration needs that was not asked for.
  const files = new Map(found.files.map((file) => [file.path, file]));
  const asked = new Set(paths);
  const needed = lookupsFor(url, routing.compiled).filter((path) => !asked.has(path));
  if (needed.length > 0) {
    const target = { project: request.project, version: found.version, bits: routing.snapshotBits ?? 0 };
    const fromSnapshot = routing.snapshotBits === null ? null : await filesFromSnapshot(env, target, needed, waitUntil);
    const more = fromSnapshot
      ? { ok: true as const, value: { files: [...fromSnapshot.values()] } }
      : await callLookup(manifest, { target: { version: found.version }, paths: needed, known: [found.version] });
    if (!more.ok) {
      return { kind: "unavailable", reason: unavailableReason(more.failure.details?.reason) };
    }
    for (const file of more.value.files) {
      files.set(file.path, file);
    }
  }
  return decide(request, url, found.version, routing, files);
}

/** Routes a request with the files it may need known, and keeps the answer for its shape. */
function decide(
  request: ResolveRequest,
  url: URL,
  version: string,
  routing: VersionRouting,
  files: ReadonlyMap<string, FileRef>,
): Resolution {
  const decision = routeRequest(
    url,
    routing.compiled,
    (path) => files.get(path)?.hash ?? null,
    shapeOf(request, routing),
  );
  const answer = toAnswer(decision, files);
  answers.set(answerKey(request, version, routing), answer);
  stats.answerMisses += 1;
  return { kind: "resolved", version, routing, answer, cache: "miss" };
}

function cachedAnswer(request: ResolveRequest, version: string): Resolution | undefined {
  const routing = routings.get(keyOf(request.project, version));
  if (!routing) {
    return undefined;
  }
  const answer = answers.get(answerKey(request, version, routing));
  return answer && { kind: "resolved", version, routing, answer, cache: "hit" };
}

function routingOf(project: string, found: Lookup): VersionRouting {
  const key = keyOf(project, found.version);
  const known = routings.get(key);
  if (known) {
    // A version finalized before snapshots existed gets one written later.
    known.snapshotBits ??= found.snapshotBits;
    return known;
  }
  if (!found.config) {
    throw new Error(`the manifest of ${project} sent no configuration for version ${found.version}`);
  }
  const routing = {
    compiled: compileConfig(found.config.serving),
    server: found.config.server,
    snapshotBits: found.snapshotBits,
    bytes: JSON.stringify(found.config).length,
  };
  routings.set(key, routing);
  return routing;
}

function shapeOf(request: ResolveRequest, routing: VersionRouting): RequestShape {
  const server = request.via === "site" ? routing.server : null;
  return { server, navigate: dependsOnNavigation(routing.compiled, server) && request.navigate };
}

/** What an answer depends on, beside the version: nothing else may go into it. */
function answerKey(request: ResolveRequest, version: string, routing: VersionRouting): string {
  const shape = shapeOf(request, routing);
  const host = routing.compiled.hostRules ? request.url.hostname : "";
  return [request.project, version, request.via, shape.navigate ? "nav" : "", host, request.url.pathname].join("\n");
}

function toAnswer(decision: Decision, files: ReadonlyMap<string, FileRef>): Answer {
  if (decision.kind === "server") {
    return { kind: "server" };
  }
  const { intent, headers } = decision;
  switch (intent.kind) {
    case "asset": {
      const file = files.get(intent.path);
      if (!file) {
        throw new Error(`routing chose ${intent.path}, which the manifest did not return`);
      }
      return { kind: "asset", file, status: intent.status, headers };
    }
    case "redirect":
      return { kind: "redirect", location: intent.location, status: intent.status, rule: intent.rule, headers };
    case "none":
      return { kind: "none", headers };
  }
}

async function callLookup(manifest: ManifestStub, query: LookupQuery): Promise<Outcome<Lookup>> {
  stats.manifestCalls += 1;
  return manifest.lookup(query);
}

function unavailableReason(reason: unknown): Unavailable {
  return reason === "no-project" || reason === "no-live-version" ? reason : "no-such-version";
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
