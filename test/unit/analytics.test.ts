/** Aggregation, roll-up and reports of request analytics, and log lines from tail events: pure. */
import { describe, expect, it } from "vitest";
import {
  Batch,
  BATCH_MAX_LOG_LINES,
  BATCH_MAX_PATHS,
  buildReport,
  emptyCounts,
  HOUR_MS,
  linesOf,
  MINUTE_MS,
  rollUp,
  stepOf,
  type BucketRow,
  type Hit,
} from "../../src/analytics/aggregate.ts";
import { parseEvents } from "../../src/cli/events.ts";
import { sparkline } from "../../src/cli/format.ts";

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

function hit(at: number, overrides: Partial<Hit> = {}): Hit {
  return { at, version: "v1", status: 200, bytes: 10, cacheHit: false, server: false, path: "/", ...overrides };
}

function row(at: number, version: string, requests: number): BucketRow {
  return { at, version, ...emptyCounts(), requests, s2xx: requests, bytes: requests * 10 };
}

describe("a batch", () => {
  it("counts per minute and version, by status class, with paths per hour", () => {
    const batch = new Batch();
    expect(batch.empty).toBe(true);
    batch.add(hit(T0));
    batch.add(hit(T0 + 59_000, { status: 404, path: "/gone", bytes: 5 }));
    batch.add(hit(T0 + 60_000, { status: 301, path: "/old" }));
    batch.add(hit(T0 + 61_000, { version: "v2", status: 503, server: true, cacheHit: true }));
    batch.addBytes(T0, "v1", 1000);
    const flush = batch.drain("i:1", T0);
    expect(flush.id).toBe("i:1");
    const minute = T0 / MINUTE_MS;
    expect(flush.minutes).toEqual([
      {
        at: minute,
        version: "v1",
        requests: 2,
        bytes: 1015,
        s2xx: 1,
        s3xx: 0,
        s4xx: 1,
        s5xx: 0,
        cacheHits: 0,
        serverCalls: 0,
      },
      {
        at: minute + 1,
        version: "v1",
        requests: 1,
        bytes: 10,
        s2xx: 0,
        s3xx: 1,
        s4xx: 0,
        s5xx: 0,
        cacheHits: 0,
        serverCalls: 0,
      },
      {
        at: minute + 1,
        version: "v2",
        requests: 1,
        bytes: 10,
        s2xx: 0,
        s3xx: 0,
        s4xx: 0,
        s5xx: 1,
        cacheHits: 1,
        serverCalls: 1,
      },
    ]);
    const hour = T0 / HOUR_MS;
    expect(flush.paths).toEqual(
      expect.arrayContaining([
        { hour, kind: "all", path: "/", requests: 2 },
        { hour, kind: "all", path: "/gone", requests: 1 },
        { hour, kind: "404", path: "/gone", requests: 1 },
        { hour, kind: "all", path: "/old", requests: 1 },
      ]),
    );
    expect(flush.paths).toHaveLength(4);
  });

  it("holds a bounded number of paths and log lines, and says how many lines it dropped", () => {
    const batch = new Batch();
    for (let i = 0; i < BATCH_MAX_PATHS + 10; i += 1) {
      batch.add(hit(T0, { path: `/p${i}` }));
    }
    batch.add(hit(T0, { path: "/p0" }));
    const lines = Array.from({ length: BATCH_MAX_LOG_LINES + 7 }, (_, i) => ({
      at: T0 + i,
      version: "v1",
      level: "log" as const,
      message: "x".repeat(5000),
      request: null,
    }));
    batch.addLogs(lines);
    const flush = batch.drain("i:2", T0 + 1);
    expect(flush.paths).toHaveLength(BATCH_MAX_PATHS);
    expect(flush.paths.find((p) => p.path === "/p0")?.requests).toBe(2);
    // Every request is in the totals, whether or not its path is listed.
    expect(flush.minutes[0]?.requests).toBe(BATCH_MAX_PATHS + 11);
    expect(flush.logs).toHaveLength(BATCH_MAX_LOG_LINES + 1);
    expect(flush.logs[0]?.message).toHaveLength(2048);
    expect(flush.logs.at(-1)).toMatchObject({
      level: "warn",
      message: "7 log lines dropped: more than 500 in one flush",
    });
  });
});

describe("roll-up", () => {
  it("sums minutes into hours per version, losing nothing", () => {
    const minute = T0 / MINUTE_MS;
    const minutes = [
      row(minute, "v1", 3),
      row(minute + 59, "v1", 4),
      row(minute + 60, "v1", 5),
      row(minute + 1, "v2", 7),
    ];
    const hours = rollUp(minutes);
    const hour = T0 / HOUR_MS;
    expect(hours.map(({ at, version, requests, bytes }) => ({ at, version, requests, bytes }))).toEqual([
      { at: hour, version: "v1", requests: 7, bytes: 70 },
      { at: hour + 1, version: "v1", requests: 5, bytes: 50 },
      { at: hour, version: "v2", requests: 7, bytes: 70 },
    ]);
    const total = (rows: BucketRow[]): number => rows.reduce((sum, r) => sum + r.requests, 0);
    expect(total(hours)).toBe(total(minutes));
  });
});

describe("reports", () => {
  it("has one point per step, zero where nothing came, within the window only", () => {
    const now = T0 + 30_000;
    const minute = T0 / MINUTE_MS;
    const report = buildReport(now, 10, {
      minutes: [row(minute, "v1", 2), row(minute - 9, "v2", 1), row(minute - 10, "v1", 100)],
      hours: [],
      paths: [
        { hour: T0 / HOUR_MS, kind: "all", path: "/a", requests: 3 },
        { hour: T0 / HOUR_MS, kind: "all", path: "/b", requests: 5 },
        { hour: T0 / HOUR_MS, kind: "404", path: "/x", requests: 1 },
        { hour: T0 / HOUR_MS - 2, kind: "all", path: "/old", requests: 50 },
      ],
    });
    expect(report.step).toBe(1);
    expect(report.series).toHaveLength(10);
    expect(report.series.at(-1)).toMatchObject({ at: new Date(T0).toISOString(), requests: 2, byVersion: { v1: 2 } });
    expect(report.series[0]).toMatchObject({ requests: 1 });
    expect(report.totals.requests).toBe(3);
    expect(report.byVersion).toEqual([
      { version: "v1", requests: 2, "4xx": 0, "5xx": 0 },
      { version: "v2", requests: 1, "4xx": 0, "5xx": 0 },
    ]);
    expect(report.topPaths).toEqual([
      { path: "/b", requests: 5 },
      { path: "/a", requests: 3 },
    ]);
    expect(report.notFound).toEqual([{ path: "/x", requests: 1 }]);
  });

  it("folds hours at their start into wide windows, at most 360 points", () => {
    expect(stepOf(60)).toBe(1);
    expect(stepOf(1440)).toBe(4);
    expect(stepOf(7 * 1440)).toBe(28);
    expect(stepOf(90 * 1440)).toBe(360);
    const now = T0;
    const report = buildReport(now, 90 * 1440, {
      minutes: [row(T0 / MINUTE_MS, "v1", 1)],
      hours: [row(T0 / HOUR_MS - 24 * 30, "v1", 40)],
      paths: [],
    });
    expect(report.series.length).toBeLessThanOrEqual(361);
    expect(report.totals.requests).toBe(41);
    expect(report.series.reduce((sum, point) => sum + point.requests, 0)).toBe(41);
  });
});

describe("log lines of a tail event", () => {
  it("keeps console calls and exceptions with method, path and status, and nothing of headers or cf", () => {
    const lines = linesOf(
      {
        eventTimestamp: T0,
        event: {
          request: {
            method: "POST",
            url: "https://blog.example.com/api/x?email=a@b.c",
            headers: { "cf-connecting-ip": "192.0.2.1" },
            cf: { city: "Austin" },
          },
          response: { status: 500 },
        },
        logs: [
          { timestamp: T0, level: "log", message: ["a", { b: 1 }, 2] },
          { timestamp: T0 + 1, level: "trace", message: ["odd level"] },
        ],
        exceptions: [{ timestamp: T0 + 2, name: "Error", message: "boom", stack: "at f (x.js:1:1)" }],
      },
      "v9",
    );
    expect(lines).toEqual([
      {
        at: T0,
        version: "v9",
        level: "log",
        message: 'a {"b":1} 2',
        request: { method: "POST", path: "/api/x", status: 500 },
      },
      {
        at: T0 + 1,
        version: "v9",
        level: "log",
        message: "odd level",
        request: { method: "POST", path: "/api/x", status: 500 },
      },
      {
        at: T0 + 2,
        version: "v9",
        level: "error",
        message: "Uncaught Error: boom\nat f (x.js:1:1)",
        request: { method: "POST", path: "/api/x", status: 500 },
      },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/192\.0\.2\.1|Austin|email/);
    // An invocation that was not a request (an alarm, say) has no request.
    expect(
      linesOf(
        {
          eventTimestamp: T0,
          event: { scheduledTime: T0 },
          logs: [{ timestamp: T0, level: "info", message: ["tick"] }],
          exceptions: [],
        },
        "v1",
      ),
    ).toEqual([{ at: T0, version: "v1", level: "info", message: "tick", request: null }]);
  });
});

describe("the CLI's event parser and sparkline", () => {
  it("parses complete events and keeps the rest", () => {
    const { events, rest } = parseEvents(
      'retry: 1000\n: comment\n\nid: 7\nevent: log\ndata: {"a":1}\n\nid: 8\r\ndata: one\r\ndata: two\r\n\r\nid: 9\ndata: par',
    );
    expect(events).toEqual([
      { id: "7", event: "log", data: '{"a":1}' },
      { id: "8", event: "message", data: "one\ntwo" },
    ]);
    expect(rest).toBe("id: 9\ndata: par");
  });

  it("draws bars relative to the largest value", () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe("▁▂▃▅█");
    expect(sparkline([0, 0])).toBe("▁▁");
    expect(sparkline([])).toBe("");
  });
});
