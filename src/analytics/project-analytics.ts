/**
 * ProjectAnalytics: one Durable Object per project (SQLite), apart from the
 * project's manifest so that counting never competes with deploys and
 * lookups. Serving isolates flush what they counted at most every few
 * seconds (see recorder.ts); nothing here is on a request's path. An
 * hourly alarm rolls minutes older than MINUTE_RETENTION_MS into hours and
 * drops what is older than the retention of each.
 */
import { DurableObject } from "cloudflare:workers";
import init from "../../migrations/analytics/0001_init.sql";
import type { Env } from "../env.ts";
import { HOUR_RETENTION_MS, LOG_LINES, LOG_RETENTION_MS, MINUTE_RETENTION_MS } from "../shared/limits.ts";
import { Db } from "../storage/db.ts";
import { applyMigrations, type Migration } from "../storage/migrate.ts";
import {
  buildReport,
  HOUR_MS,
  MINUTE_MS,
  rollUp,
  type BucketRow,
  type Flush,
  type LogEntry,
  type LogLevel,
  type LogLine,
  type PathRow,
  type Report,
} from "./aggregate.ts";

export const ANALYTICS_MIGRATIONS: readonly Migration[] = [{ id: 1, name: "init", sql: init }];

/** Paths kept per hour and kind (the report lists the 50 busiest over its window). */
const PATHS_PER_HOUR = 100;
/** Flush ids are remembered this long: retries come within seconds. */
const FLUSH_ID_RETENTION_MS = 24 * HOUR_MS;

interface CountRow extends Record<string, SqlStorageValue> {
  at: number;
  version: string;
  requests: number;
  bytes: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  cache_hits: number;
  server_calls: number;
}

interface LogRow extends Record<string, SqlStorageValue> {
  seq: number;
  at: number;
  version: string;
  level: string;
  message: string;
  request: string | null;
}

export class ProjectAnalytics extends DurableObject<Env> {
  readonly #db: Db;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#db = new Db(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      applyMigrations(this.#db, ANALYTICS_MIGRATIONS);
    });
  }

  /** Adds one isolate's flush; a flush whose id was already counted changes nothing. */
  async record(flush: Flush): Promise<{ counted: boolean }> {
    const now = Date.now();
    const erasedAt = this.#db.first<{ erased_at: number }>("SELECT erased_at FROM meta WHERE id = 1")?.erased_at ?? 0;
    const counted = this.#db.transaction(() => {
      if (this.#db.first("SELECT id FROM flushes WHERE id = ?", flush.id)) {
        return false;
      }
      this.#db.run("INSERT INTO flushes (id, at) VALUES (?, ?)", flush.id, now);
      for (const row of flush.minutes) {
        if ((row.at + 1) * MINUTE_MS > erasedAt) {
          this.#add("minutes", row);
        }
      }
      for (const row of flush.paths) {
        if ((row.hour + 1) * HOUR_MS > erasedAt) {
          this.#db.run(
            `INSERT INTO paths (hour, kind, path, requests) VALUES (?, ?, ?, ?)
             ON CONFLICT (hour, kind, path) DO UPDATE SET requests = requests + excluded.requests`,
            row.hour,
            row.kind,
            row.path,
            row.requests,
          );
        }
      }
      this.#prunePaths(new Set(flush.paths.map((row) => `${row.hour}\n${row.kind}`)));
      for (const line of flush.logs) {
        if (line.at > erasedAt) {
          this.#db.run(
            "INSERT INTO logs (at, version, level, message, request) VALUES (?, ?, ?, ?, ?)",
            line.at,
            line.version,
            line.level,
            line.message,
            line.request ? JSON.stringify(line.request) : null,
          );
        }
      }
      if (flush.logs.length > 0) {
        this.#db.run("DELETE FROM logs WHERE seq <= (SELECT MAX(seq) FROM logs) - ?", LOG_LINES);
      }
      return true;
    });
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(now + HOUR_MS);
    }
    return { counted };
  }

  /** The report over the last `minutes` (see aggregate.ts#buildReport). */
  report(minutes: number): Report {
    const now = Date.now();
    const fromMinute = Math.floor(now / MINUTE_MS) - minutes;
    return buildReport(now, minutes, {
      minutes: this.#db.all<CountRow>("SELECT * FROM minutes WHERE at >= ?", fromMinute).map(bucketOf),
      hours: this.#db.all<CountRow>("SELECT * FROM hours WHERE at >= ?", Math.floor(fromMinute / 60)).map(bucketOf),
      paths: this.#db.all<PathRow & Record<string, SqlStorageValue>>(
        "SELECT hour, kind, path, requests FROM paths WHERE hour >= ?",
        Math.floor(fromMinute / 60),
      ),
    });
  }

  /**
   * Log lines after `since` (a seq; null: the newest `limit` lines), oldest
   * first, at most `limit`; `cursor` is the seq to ask after next.
   */
  logs(after: number | null, limit: number): { logs: LogEntry[]; cursor: number } {
    const since = after ?? Math.max(0, this.lastLog() - limit);
    const rows = this.#db.all<LogRow>("SELECT * FROM logs WHERE seq > ? ORDER BY seq LIMIT ?", since, limit);
    const last = rows.at(-1)?.seq ?? Math.max(since, 0);
    return {
      logs: rows.map((row) => ({
        seq: row.seq,
        at: new Date(row.at).toISOString(),
        version: row.version,
        level: row.level as LogLevel,
        message: row.message,
        ...(row.request ? { request: JSON.parse(row.request) as LogLine["request"] } : {}),
      })),
      cursor: last,
    };
  }

  /** The seq of the newest line (0 for none): where following starts. */
  lastLog(): number {
    return this.#db.first<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM logs")?.seq ?? 0;
  }

  /**
   * Forgets everything (the project was deleted). Flushes still on their
   * way from isolates that served it count only requests after this, so a
   * project created again under the name starts from nothing.
   */
  async erase(): Promise<void> {
    const now = Date.now();
    this.#db.transaction(() => {
      for (const table of ["minutes", "hours", "paths", "logs", "flushes"]) {
        this.#db.run(`DELETE FROM ${table}`);
      }
      this.#db.run(
        "INSERT INTO meta (id, erased_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET erased_at = excluded.erased_at",
        now,
      );
    });
    await this.ctx.storage.deleteAlarm();
  }

  /** Rolls old minutes into hours and drops what is past retention. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const oldMinute = Math.floor((now - MINUTE_RETENTION_MS) / MINUTE_MS);
    // Whole hours only: a minute row of a partly kept hour waits for the next run.
    const cut = Math.floor(oldMinute / 60) * 60;
    this.#db.transaction(() => {
      const old = this.#db.all<CountRow>("SELECT * FROM minutes WHERE at < ?", cut).map(bucketOf);
      for (const row of rollUp(old)) {
        this.#add("hours", row);
      }
      this.#db.run("DELETE FROM minutes WHERE at < ?", cut);
      const oldHour = Math.floor((now - HOUR_RETENTION_MS) / HOUR_MS);
      this.#db.run("DELETE FROM hours WHERE at < ?", oldHour);
      this.#db.run("DELETE FROM paths WHERE hour < ?", oldHour);
      this.#db.run("DELETE FROM logs WHERE at < ?", now - LOG_RETENTION_MS);
      this.#db.run("DELETE FROM flushes WHERE at < ?", now - FLUSH_ID_RETENTION_MS);
    });
    const anything = this.#db.first(
      "SELECT 1 AS x FROM minutes UNION ALL SELECT 1 FROM hours UNION ALL SELECT 1 FROM logs LIMIT 1",
    );
    if (anything) {
      await this.ctx.storage.setAlarm(now + HOUR_MS);
    }
  }

  #add(table: "minutes" | "hours", row: BucketRow): void {
    this.#db.run(
      `INSERT INTO ${table} (at, version, requests, bytes, s2xx, s3xx, s4xx, s5xx, cache_hits, server_calls)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (at, version) DO UPDATE SET
         requests = requests + excluded.requests, bytes = bytes + excluded.bytes,
         s2xx = s2xx + excluded.s2xx, s3xx = s3xx + excluded.s3xx,
         s4xx = s4xx + excluded.s4xx, s5xx = s5xx + excluded.s5xx,
         cache_hits = cache_hits + excluded.cache_hits, server_calls = server_calls + excluded.server_calls`,
      row.at,
      row.version,
      row.requests,
      row.bytes,
      row.s2xx,
      row.s3xx,
      row.s4xx,
      row.s5xx,
      row.cacheHits,
      row.serverCalls,
    );
  }

  /** Keeps the PATHS_PER_HOUR busiest paths of each hour and kind a flush touched. */
  #prunePaths(touched: ReadonlySet<string>): void {
    for (const key of touched) {
      const [hour, kind] = key.split("\n");
      this.#db.run(
        `DELETE FROM paths WHERE hour = ?1 AND kind = ?2 AND path NOT IN
           (SELECT path FROM paths WHERE hour = ?1 AND kind = ?2 ORDER BY requests DESC, path LIMIT ?3)`,
        Number(hour),
        kind ?? "all",
        PATHS_PER_HOUR,
      );
    }
  }
}

function bucketOf(row: CountRow): BucketRow {
  return {
    at: row.at,
    version: row.version,
    requests: row.requests,
    bytes: row.bytes,
    s2xx: row.s2xx,
    s3xx: row.s3xx,
    s4xx: row.s4xx,
    s5xx: row.s5xx,
    cacheHits: row.cache_hits,
    serverCalls: row.server_calls,
  };
}
