/**
 * Request analytics and server-code logs, through the real serving path,
 * the real tail of the Worker Loader and the project's analytics Durable
 * Object (isolates flush every 50 ms here).
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { api, apiJson, createProject, deploy, site, uniqueProject } from "./helpers.ts";

interface Report {
  totals: Record<"requests" | "bytes" | "2xx" | "3xx" | "4xx" | "5xx" | "cacheHits" | "serverCalls", number>;
  byVersion: { version: string; requests: number; "4xx": number; "5xx": number }[];
  series: { at: string; requests: number; "4xx": number; "5xx": number; byVersion: Record<string, number> }[];
  topPaths: { path: string; requests: number }[];
  notFound: { path: string; requests: number }[];
  step: number;
}

interface Logs {
  logs: {
    seq: number;
    at: string;
    version: string;
    level: string;
    message: string;
    request?: { method: string; path: string; status: number | null };
  }[];
  cursor: number;
}

/** The report once it counts `requests` (flushes land within moments), checked again a moment later. */
async function reportOnce(project: string, requests: number, query = ""): Promise<Report> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const report = await apiJson<Report>("GET", `/api/projects/${project}/analytics${query}`);
    if (report.totals.requests >= requests || Date.now() > deadline) {
      // Nothing more arrives: every request counted once.
      await scheduler.wait(150);
      return apiJson<Report>("GET", `/api/projects/${project}/analytics${query}`);
    }
    await scheduler.wait(25);
  }
}

async function logsOnce(project: string, lines: number, query = ""): Promise<Logs> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const logs = await apiJson<Logs>("GET", `/api/projects/${project}/logs${query}`);
    if (logs.logs.length >= lines || Date.now() > deadline) {
      return logs;
    }
    await scheduler.wait(25);
  }
}

const SERVER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    console.log("handling", url.pathname, { n: 1 });
    if (url.pathname === "/api/throw") {
      console.warn("about to fail");
      throw new TypeError("it broke");
    }
    return new Response("from server " + url.pathname);
  },
};
`;

describe("request analytics", () => {
  it("counts requests, bytes, statuses and paths per version, once each", async ({ expect }) => {
    const project = uniqueProject("stats");
    await createProject(project);
    const first = await deploy(project, { "/index.html": "<h1>one</h1>", "/a.txt": "a".repeat(100) });
    for (let i = 0; i < 5; i += 1) {
      expect((await site(project, "/a.txt?secret=1")).status).toBe(200);
    }
    expect((await site(project, "/missing")).status).toBe(404);
    expect((await site(project, "/missing")).status).toBe(404);
    expect((await site(project, "/a.txt", { method: "HEAD" })).status).toBe(200);
    const second = await deploy(project, { "/index.html": "<h1>two</h1>", "/a.txt": "b".repeat(50) });
    for (let i = 0; i < 3; i += 1) {
      await (await site(project, "/a.txt")).arrayBuffer();
    }
    await site(project, "/index.html", { redirect: "manual" });
    const report = await reportOnce(project, 12);
    expect(report.totals).toMatchObject({ requests: 12, "2xx": 9, "3xx": 1, "4xx": 2, "5xx": 0, serverCalls: 0 });
    // 5 × 100 bytes of v1's a.txt, 3 × 50 of v2's, the HEAD none; the 404 pages' bytes are counted too.
    expect(report.totals.bytes).toBeGreaterThanOrEqual(650);
    expect(report.byVersion).toEqual(
      expect.arrayContaining([
        { version: first.version, requests: 8, "4xx": 2, "5xx": 0 },
        { version: second.version, requests: 4, "4xx": 0, "5xx": 0 },
      ]),
    );
    expect(report.topPaths[0]).toEqual({ path: "/a.txt", requests: 9 });
    expect(report.topPaths.some((entry) => entry.path.includes("secret"))).toBe(false);
    expect(report.notFound).toEqual([{ path: "/missing", requests: 2 }]);
    expect(report.series.reduce((sum, point) => sum + point.requests, 0)).toBe(12);
    // Warm requests answered from the isolate's caches count as cache hits.
    expect(report.totals.cacheHits).toBeGreaterThan(0);
  });

  it("counts a flush retried with the same id once, and drops flushes of requests from before an erase", async ({
    expect,
  }) => {
    const project = uniqueProject("stats-once");
    const analytics = env.ANALYTICS.getByName(project);
    const minute = Math.floor(Date.now() / 60_000);
    const row = {
      at: minute,
      version: "v1",
      requests: 3,
      bytes: 30,
      s2xx: 3,
      s3xx: 0,
      s4xx: 0,
      s5xx: 0,
      cacheHits: 1,
      serverCalls: 0,
    };
    const flush = {
      id: "isolate-a:1",
      minutes: [row],
      paths: [{ hour: Math.floor(minute / 60), kind: "all" as const, path: "/x", requests: 3 }],
      logs: [],
    };
    expect(await analytics.record(flush)).toEqual({ counted: true });
    expect(await analytics.record(flush)).toEqual({ counted: false });
    expect((await analytics.report(5)).totals.requests).toBe(3);
    await analytics.erase();
    const late = { ...flush, id: "isolate-a:2", minutes: [{ ...row, at: minute - 2 }] };
    await analytics.record(late);
    expect((await analytics.report(5)).totals.requests).toBe(0);
  });

  it("refuses bad windows and other projects' tokens, and lets any token of the project read", async ({ expect }) => {
    const project = uniqueProject("stats-auth");
    const other = uniqueProject("stats-other");
    await createProject(project);
    await createProject(other);
    const { token } = await apiJson<{ token: string }>("POST", `/api/projects/${project}/tokens`, {
      status: 201,
      body: { scope: "deploy" },
    });
    expect((await api("GET", `/api/projects/${project}/analytics?minutes=30`, { token })).status).toBe(200);
    expect((await api("GET", `/api/projects/${project}/logs`, { token })).status).toBe(200);
    expect((await api("GET", `/api/projects/${other}/analytics`, { token })).status).toBe(403);
    const bad = await api("GET", `/api/projects/${project}/analytics?minutes=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: expect.stringMatching(/^minutes: /) } });
    expect((await api("GET", `/api/projects/${project}/logs?limit=5000`)).status).toBe(400);
    expect((await api("GET", `/api/projects/${project}/logs?follow=yes`)).status).toBe(400);
    expect((await api("GET", `/api/projects/no-such-${project}/analytics`)).status).toBe(404);
  });

  it("forgets a deleted project's analytics", async ({ expect }) => {
    const project = uniqueProject("stats-del");
    await createProject(project);
    await deploy(project, { "/index.html": "x" });
    await site(project, "/");
    await reportOnce(project, 1);
    await apiJson("DELETE", `/api/projects/${project}`);
    await createProject(project);
    const report = await apiJson<Report>("GET", `/api/projects/${project}/analytics`);
    expect(report.totals.requests).toBe(0);
  });
});

describe("server code's logs", () => {
  it("keeps console lines and uncaught exceptions with version, method, path and status", async ({ expect }) => {
    const project = uniqueProject("logs");
    await createProject(project);
    const { version } = await deploy(
      project,
      { "/index.html": "<h1>app</h1>" },
      {
        server: { entry: "server/index.js", files: { "server/index.js": SERVER } },
      },
    );
    expect(await (await site(project, "/api/hello?token=abc")).text()).toBe("from server /api/hello");
    expect((await site(project, "/api/throw")).status).toBe(500);
    const { logs, cursor } = await logsOnce(project, 4);
    expect(logs.map(({ level, message, request }) => ({ level, message, request }))).toEqual([
      {
        level: "log",
        message: 'handling /api/hello {"n":1}',
        request: { method: "GET", path: "/api/hello", status: 200 },
      },
      {
        level: "log",
        message: 'handling /api/throw {"n":1}',
        request: { method: "GET", path: "/api/throw", status: null },
      },
      { level: "warn", message: "about to fail", request: { method: "GET", path: "/api/throw", status: null } },
      {
        level: "error",
        message: expect.stringMatching(/^Uncaught TypeError: it broke/),
        request: expect.objectContaining({ path: "/api/throw" }),
      },
    ]);
    expect(logs.every((line) => line.version === version)).toBe(true);
    expect(cursor).toBe(logs.at(-1)?.seq);
    // Requests to server code count as its invocations; the exception as a 5xx.
    const report = await reportOnce(project, 2);
    expect(report.totals).toMatchObject({ requests: 2, serverCalls: 2, "5xx": 1 });
    // Paging: after the cursor, nothing yet; `limit` keeps the newest.
    expect((await apiJson<Logs>("GET", `/api/projects/${project}/logs?since=${cursor}`)).logs).toEqual([]);
    expect(
      (await apiJson<Logs>("GET", `/api/projects/${project}/logs?limit=1`)).logs.map((line) => line.level),
    ).toEqual(["error"]);
  });

  it("follows new lines as server-sent events", async ({ expect }) => {
    const project = uniqueProject("logs-follow");
    await createProject(project);
    await deploy(
      project,
      { "/index.html": "x" },
      { server: { entry: "server/index.js", files: { "server/index.js": SERVER } } },
    );
    const stream = await api("GET", `/api/projects/${project}/logs?follow=1`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await site(project, "/api/followed");
    let text = "";
    const decoder = new TextDecoder();
    const deadline = Date.now() + 10_000;
    while (!text.includes("event: log") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      text += decoder.decode(value);
    }
    await reader.cancel();
    const data = /data: (.*)\n/.exec(text)?.[1] ?? "null";
    expect(JSON.parse(data)).toMatchObject({ level: "log", message: 'handling /api/followed {"n":1}' });
    expect(text).toMatch(/^retry: \d+\n/);
    expect(text).toMatch(/\nid: \d+\nevent: log\n/);
  });
});
