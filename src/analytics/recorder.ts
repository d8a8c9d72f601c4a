/**
 * Counting requests and gathering server-code logs in the isolate, and
 * sending them to each project's analytics Durable Object in batches. A
 * request only adds to this isolate's batch for its project: no call. The
 * request that starts a batch also schedules its flush (ctx.waitUntil)
 * ANALYTICS_FLUSH_MS later, so a project's batch is flushed at most once
 * per interval per isolate, and within one interval of the first request
 * it holds even if traffic stops. A flush carries an id unique to this
 * isolate, so that the one retry of a flush that may have landed counts
 * once; what an isolate holds when it is evicted is lost (never counted
 * twice).
 */
import { millisecondsVar, type Env } from "../env.ts";
import { Batch, type Hit, type LogLine } from "./aggregate.ts";

/** How long an isolate gathers a project's requests before it sends them, by default. */
export const DEFAULT_FLUSH_MS = 5000;
/** A failed flush is tried once more, this much later, with the same id. */
const RETRY_MS = 1000;

export interface RecorderStats {
  /** Flushes sent to projects' analytics, and flushes given up after a retry. */
  analyticsFlushes: number;
  analyticsFlushFailures: number;
}

export const recorderStats: RecorderStats = { analyticsFlushes: 0, analyticsFlushFailures: 0 };

type WaitUntil = (promise: Promise<unknown>) => void;

/** This isolate's name in flush ids, made on its first flush (no random values at startup). */
let isolate: string | null = null;
let flushes = 0;
const batches = new Map<string, Batch>();

/** Whether this platform records analytics (the RECORD_ANALYTICS variable; "off" turns it off). */
export function recording(env: Pick<Env, "RECORD_ANALYTICS">): boolean {
  return env.RECORD_ANALYTICS !== "off";
}

export function recordHit(env: Env, project: string, hit: Hit, waitUntil: WaitUntil): void {
  batchOf(env, project, waitUntil).add(hit);
}

export function recordBytes(
  env: Env,
  project: string,
  hit: Pick<Hit, "at" | "version">,
  bytes: number,
  waitUntil: WaitUntil,
): void {
  batchOf(env, project, waitUntil).addBytes(hit.at, hit.version, bytes);
}

export function recordLogs(env: Env, project: string, lines: readonly LogLine[], waitUntil: WaitUntil): void {
  if (lines.length > 0) {
    batchOf(env, project, waitUntil).addLogs(lines);
  }
}

function batchOf(env: Env, project: string, waitUntil: WaitUntil): Batch {
  let batch = batches.get(project);
  if (!batch) {
    batch = new Batch();
    batches.set(project, batch);
    waitUntil(scheduler.wait(flushMs(env)).then(() => flush(env, project)));
  }
  return batch;
}

async function flush(env: Env, project: string): Promise<void> {
  const batch = batches.get(project);
  batches.delete(project);
  if (!batch || batch.empty) {
    return;
  }
  flushes += 1;
  isolate ??= crypto.randomUUID();
  const payload = batch.drain(`${isolate}:${flushes}`, Date.now());
  const analytics = env.ANALYTICS.getByName(project);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await analytics.record(payload);
      recorderStats.analyticsFlushes += 1;
      return;
    } catch (error) {
      if (attempt === 0) {
        await scheduler.wait(RETRY_MS);
      } else {
        recorderStats.analyticsFlushFailures += 1;
        console.error(`analytics of ${project} not recorded:`, error);
      }
    }
  }
}

function flushMs(env: Pick<Env, "ANALYTICS_FLUSH_MS">): number {
  return millisecondsVar(env.ANALYTICS_FLUSH_MS, DEFAULT_FLUSH_MS);
}

/**
 * `response` as sent, recorded as `hit` once its size is known: at once
 * from Content-Length, else (a streamed body) counted as it goes out; the
 * bytes of a stream the visitor abandons are not counted.
 */
export function recordResponse(
  env: Env,
  project: string,
  hit: Omit<Hit, "bytes" | "status">,
  response: Response,
  head: boolean,
  waitUntil: WaitUntil,
): Response {
  const length = response.headers.get("content-length");
  const streamed = !head && length === null && response.body !== null && response.status !== 101;
  recordHit(
    env,
    project,
    { ...hit, status: response.status, bytes: head || streamed ? 0 : Number(length) || 0 },
    waitUntil,
  );
  if (!streamed || response.body === null) {
    return response;
  }
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush() {
      recordBytes(env, project, hit, bytes, waitUntil);
    },
  });
  return new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
