/**
 * Request analytics and server-code logs as values: what one isolate
 * gathers between two flushes (a Batch), what a flush carries, the roll-up
 * of minutes into hours, and the report the API answers. Pure: no clock,
 * no storage; the recorder and the analytics Durable Object do the I/O.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/** Distinct paths a batch counts per kind; requests for more are in the totals only. */
export const BATCH_MAX_PATHS = 1000;
/** Log lines a batch holds; more are dropped and said so in one line. */
export const BATCH_MAX_LOG_LINES = 500;
/** Characters of one log message and of one path kept. */
export const MAX_MESSAGE_CHARS = 2048;
export const MAX_PATH_CHARS = 256;

/** One request a project's host answered. */
export interface Hit {
  /** When it was answered, ms since the epoch. */
  at: number;
  version: string;
  status: number;
  /** Body bytes sent (0 for HEAD and 304; counted later for a streamed body of unknown length). */
  bytes: number;
  /** Answered with no Durable Object call and no R2 read: the routing answer and body were at hand. */
  cacheHit: boolean;
  /** Answered by the version's server code. */
  server: boolean;
  /** The URL's path, without its query (which may carry what a visitor would not want kept). */
  path: string;
}

export interface Counts {
  requests: number;
  bytes: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  cacheHits: number;
  serverCalls: number;
}

/** Counts of one version in one bucket: a minute (`at` in minutes since the epoch) or an hour (in hours). */
export interface BucketRow extends Counts {
  at: number;
  version: string;
}

export type PathKind = "all" | "404";

/** Requests for one path in one hour. */
export interface PathRow {
  hour: number;
  kind: PathKind;
  path: string;
  requests: number;
}

export type LogLevel = "debug" | "log" | "info" | "warn" | "error";

export interface LogLine {
  at: number;
  version: string;
  level: LogLevel;
  message: string;
  /** The request the line was written during, if any. */
  request: { method: string; path: string; status: number | null } | null;
}

/** One log line as the API answers it; `seq` orders lines and is the cursor of `since`. */
export interface LogEntry {
  seq: number;
  at: string;
  version: string;
  level: LogLevel;
  message: string;
  request?: LogLine["request"];
}

/** What an isolate sends to a project's analytics at once. `id` makes a retried flush count once. */
export interface Flush {
  id: string;
  minutes: BucketRow[];
  paths: PathRow[];
  logs: LogLine[];
}

export function emptyCounts(): Counts {
  return { requests: 0, bytes: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0, cacheHits: 0, serverCalls: 0 };
}

export function addCounts(into: Counts, from: Counts): void {
  into.requests += from.requests;
  into.bytes += from.bytes;
  into.s2xx += from.s2xx;
  into.s3xx += from.s3xx;
  into.s4xx += from.s4xx;
  into.s5xx += from.s5xx;
  into.cacheHits += from.cacheHits;
  into.serverCalls += from.serverCalls;
}

/** What one isolate has seen of one project since its last flush. */
export class Batch {
  readonly #minutes = new Map<string, BucketRow>();
  readonly #paths = new Map<string, PathRow>();
  readonly #pathCount = { all: 0, "404": 0 };
  #logs: LogLine[] = [];
  #droppedLogs = 0;

  get empty(): boolean {
    return this.#minutes.size === 0 && this.#logs.length === 0 && this.#droppedLogs === 0;
  }

  add(hit: Hit): void {
    const row = this.#row(hit.at, hit.version);
    row.requests += 1;
    row.bytes += hit.bytes;
    if (hit.status >= 500) {
      row.s5xx += 1;
    } else if (hit.status >= 400) {
      row.s4xx += 1;
    } else if (hit.status >= 300) {
      row.s3xx += 1;
    } else if (hit.status >= 200) {
      row.s2xx += 1;
    }
    row.cacheHits += hit.cacheHit ? 1 : 0;
    row.serverCalls += hit.server ? 1 : 0;
    const hour = Math.floor(hit.at / HOUR_MS);
    const path = hit.path.slice(0, MAX_PATH_CHARS);
    this.#countPath(hour, "all", path);
    if (hit.status === 404) {
      this.#countPath(hour, "404", path);
    }
  }

  /** Bytes of a streamed body, known once it has been sent. */
  addBytes(at: number, version: string, bytes: number): void {
    this.#row(at, version).bytes += bytes;
  }

  addLogs(lines: readonly LogLine[]): void {
    for (const line of lines) {
      if (this.#logs.length >= BATCH_MAX_LOG_LINES) {
        this.#droppedLogs += 1;
      } else {
        this.#logs.push({ ...line, message: line.message.slice(0, MAX_MESSAGE_CHARS) });
      }
    }
  }

  /** Everything gathered, as one flush. */
  drain(id: string, now: number): Flush {
    const logs = [...this.#logs];
    const last = logs.at(-1);
    if (this.#droppedLogs > 0) {
      logs.push({
        at: now,
        version: last?.version ?? "",
        level: "warn",
        message: `${this.#droppedLogs} log lines dropped: more than ${BATCH_MAX_LOG_LINES} in one flush`,
        request: null,
      });
    }
    return { id, minutes: [...this.#minutes.values()], paths: [...this.#paths.values()], logs };
  }

  #row(at: number, version: string): BucketRow {
    const minute = Math.floor(at / MINUTE_MS);
    const key = `${minute}\n${version}`;
    let row = this.#minutes.get(key);
    if (!row) {
      row = { at: minute, version, ...emptyCounts() };
      this.#minutes.set(key, row);
    }
    return row;
  }

  #countPath(hour: number, kind: PathKind, path: string): void {
    const key = `${hour}\n${kind}\n${path}`;
    const row = this.#paths.get(key);
    if (row) {
      row.requests += 1;
    } else if (this.#pathCount[kind] < BATCH_MAX_PATHS) {
      this.#pathCount[kind] += 1;
      this.#paths.set(key, { hour, kind, path, requests: 1 });
    }
  }
}

/** Minute rows summed into hour rows, one per hour and version. */
export function rollUp(minutes: readonly BucketRow[]): BucketRow[] {
  const hours = new Map<string, BucketRow>();
  for (const minute of minutes) {
    const hour = Math.floor((minute.at * MINUTE_MS) / HOUR_MS);
    const key = `${hour}\n${minute.version}`;
    let row = hours.get(key);
    if (!row) {
      row = { at: hour, version: minute.version, ...emptyCounts() };
      hours.set(key, row);
    }
    addCounts(row, minute);
  }
  return [...hours.values()];
}

/** Points a report's series has at most; wider windows sum several minutes per point. */
export const MAX_SERIES_POINTS = 360;
/** Paths a report lists, of each kind. */
export const REPORT_TOP_PATHS = 50;

export interface Report {
  from: string;
  to: string;
  /** Minutes per point of the series. */
  step: number;
  totals: {
    requests: number;
    bytes: number;
    "2xx": number;
    "3xx": number;
    "4xx": number;
    "5xx": number;
    cacheHits: number;
    serverCalls: number;
  };
  byVersion: { version: string; requests: number; "4xx": number; "5xx": number }[];
  series: {
    at: string;
    requests: number;
    bytes: number;
    "4xx": number;
    "5xx": number;
    byVersion: Record<string, number>;
  }[];
  topPaths: { path: string; requests: number }[];
  notFound: { path: string; requests: number }[];
}

/** Minutes per series point for a window of `minutes`: whole minutes, whole hours past an hour. */
export function stepOf(minutes: number): number {
  const step = Math.max(1, Math.ceil(minutes / MAX_SERIES_POINTS));
  return step > 60 ? Math.ceil(step / 60) * 60 : step;
}

/**
 * The report over the `minutes` before `now`: minute rows, hour rows (for
 * what has been rolled up; each counts at its hour's start) and path rows
 * (by hour, so the paths cover the hours the window touches).
 */
export function buildReport(
  now: number,
  minutes: number,
  rows: { minutes: readonly BucketRow[]; hours: readonly BucketRow[]; paths: readonly PathRow[] },
): Report {
  const step = stepOf(minutes);
  const last = Math.floor(now / MINUTE_MS);
  const first = Math.floor((last - minutes + 1) / step) * step;
  const points = Math.floor((last - first) / step) + 1;
  const series = Array.from({ length: points }, (_, i) => ({
    at: new Date((first + i * step) * MINUTE_MS).toISOString(),
    requests: 0,
    bytes: 0,
    "4xx": 0,
    "5xx": 0,
    byVersion: {} as Record<string, number>,
  }));
  const totals = emptyCounts();
  const versions = new Map<string, { version: string; requests: number; "4xx": number; "5xx": number }>();
  const count = (minute: number, row: BucketRow): void => {
    if (minute < first || minute > last) {
      return;
    }
    addCounts(totals, row);
    const point = series[Math.floor((minute - first) / step)];
    if (point) {
      point.requests += row.requests;
      point.bytes += row.bytes;
      point["4xx"] += row.s4xx;
      point["5xx"] += row.s5xx;
      point.byVersion[row.version] = (point.byVersion[row.version] ?? 0) + row.requests;
    }
    const version = versions.get(row.version) ?? { version: row.version, requests: 0, "4xx": 0, "5xx": 0 };
    version.requests += row.requests;
    version["4xx"] += row.s4xx;
    version["5xx"] += row.s5xx;
    versions.set(row.version, version);
  };
  for (const row of rows.minutes) {
    count(row.at, row);
  }
  for (const row of rows.hours) {
    count((row.at * HOUR_MS) / MINUTE_MS, row);
  }
  const firstHour = Math.floor((first * MINUTE_MS) / HOUR_MS);
  const lastHour = Math.floor((last * MINUTE_MS) / HOUR_MS);
  const top = (kind: PathKind): { path: string; requests: number }[] => {
    const sums = new Map<string, number>();
    for (const row of rows.paths) {
      if (row.kind === kind && row.hour >= firstHour && row.hour <= lastHour) {
        sums.set(row.path, (sums.get(row.path) ?? 0) + row.requests);
      }
    }
    return [...sums]
      .map(([path, requests]) => ({ path, requests }))
      .sort((a, b) => b.requests - a.requests || (a.path < b.path ? -1 : 1))
      .slice(0, REPORT_TOP_PATHS);
  };
  return {
    from: new Date(first * MINUTE_MS).toISOString(),
    to: new Date((last + 1) * MINUTE_MS).toISOString(),
    step,
    totals: {
      requests: totals.requests,
      bytes: totals.bytes,
      "2xx": totals.s2xx,
      "3xx": totals.s3xx,
      "4xx": totals.s4xx,
      "5xx": totals.s5xx,
      cacheHits: totals.cacheHits,
      serverCalls: totals.serverCalls,
    },
    byVersion: [...versions.values()].sort((a, b) => b.requests - a.requests),
    series,
    topPaths: top("all"),
    notFound: top("404"),
  };
}

/** The parts of a tail event (see TraceItem) a log line is made of. */
export interface TailEvent {
  eventTimestamp: number | null;
  event: unknown;
  logs: readonly { timestamp: number; level: string; message: unknown }[];
  exceptions: readonly { timestamp: number; name: string; message: string; stack?: string }[];
}

const LEVELS = new Set<string>(["debug", "log", "info", "warn", "error"]);

/**
 * The log lines of one invocation of server code: its console calls and
 * uncaught exceptions, with the request's method, path and status. Headers,
 * query strings and `cf` (which holds the visitor's address) are not kept.
 */
export function linesOf(event: TailEvent, version: string): LogLine[] {
  const request = requestOf(event.event);
  const lines: LogLine[] = event.logs.map((log) => ({
    at: log.timestamp,
    version,
    level: LEVELS.has(log.level) ? (log.level as LogLevel) : "log",
    message: formatMessage(log.message),
    request,
  }));
  for (const exception of event.exceptions) {
    lines.push({
      at: exception.timestamp,
      version,
      level: "error",
      message: `Uncaught ${exception.name}: ${exception.message}${exception.stack ? `\n${exception.stack}` : ""}`,
      request,
    });
  }
  return lines;
}

function requestOf(event: unknown): LogLine["request"] {
  if (typeof event !== "object" || event === null || !("request" in event)) {
    return null;
  }
  const { request, response } = event as {
    request?: { method?: unknown; url?: unknown };
    response?: { status?: unknown };
  };
  let path = "";
  try {
    path = new URL(String(request?.url)).pathname;
  } catch {
    path = "";
  }
  return {
    method: typeof request?.method === "string" ? request.method : "",
    path: path.slice(0, MAX_PATH_CHARS),
    status: typeof response?.status === "number" ? response.status : null,
  };
}

/** A console call's arguments as one line, the way a terminal would print them. */
export function formatMessage(message: unknown): string {
  const parts = Array.isArray(message) ? message : [message];
  return parts
    .map((part) => {
      if (typeof part === "string") {
        return part;
      }
      try {
        return JSON.stringify(part) ?? String(part);
      } catch {
        return String(part);
      }
    })
    .join(" ")
    .slice(0, MAX_MESSAGE_CHARS);
}
