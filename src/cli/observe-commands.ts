/**
 * What a project's sites did: `analytics` (a summary, a sparkline of
 * requests, the versions that served them, the busiest paths and 404s) and
 * `logs` (the server code's lines, or following them as they come).
 */
import type { LogEntry, Report } from "../analytics/aggregate.ts";
import type { ApiClient } from "./client.ts";
import type { CommandOutput } from "./commands.ts";
import { UsageError } from "./errors.ts";
import { formatBytes, formatTable, sparkline } from "./format.ts";

const projectPath = (project: string): string => `/api/projects/${project}`;

/** Rows of paths a terminal shows (the JSON has them all). */
const SHOWN_PATHS = 10;

export async function analytics(
  client: ApiClient,
  project: string,
  minutes: number | undefined,
): Promise<CommandOutput> {
  const query = minutes === undefined ? "" : `?minutes=${minutes}`;
  const report = await client.request<Report & { project: string; minutes: number }>(
    "GET",
    `${projectPath(project)}/analytics${query}`,
  );
  return { json: report, text: renderReport(report) };
}

/** A report for a terminal. */
export function renderReport(report: Report & { project: string; minutes: number }): string {
  const { totals } = report;
  const percent = (part: number): string =>
    totals.requests === 0 ? "0%" : `${((part / totals.requests) * 100).toFixed(1)}%`;
  const lines = [
    `${report.project}, the last ${report.minutes} minute(s): ${totals.requests} request(s), ${formatBytes(totals.bytes)} sent`,
    `  2xx ${totals["2xx"]}  3xx ${totals["3xx"]}  4xx ${totals["4xx"]}  5xx ${totals["5xx"]}` +
      `  cache hits ${percent(totals.cacheHits)}  server code ${totals.serverCalls}`,
    `  requests ${sparkline(report.series.map((point) => point.requests))}  (${report.step} min per bar, to ${report.to.slice(11, 16)} UTC)`,
    `  errors   ${sparkline(report.series.map((point) => point["4xx"] + point["5xx"]))}`,
  ];
  if (report.byVersion.length > 0) {
    lines.push(
      "",
      formatTable([
        ["VERSION", "REQUESTS", "4XX", "5XX"],
        ...report.byVersion.map((v) => [v.version, String(v.requests), String(v["4xx"]), String(v["5xx"])]),
      ]),
    );
  }
  for (const [title, paths] of [
    ["TOP PATHS", report.topPaths],
    ["NOT FOUND", report.notFound],
  ] as const) {
    if (paths.length > 0) {
      lines.push(
        "",
        formatTable([["REQUESTS", title], ...paths.slice(0, SHOWN_PATHS).map((p) => [String(p.requests), p.path])]),
      );
    }
  }
  return lines.join("\n");
}

export interface LogsOptions {
  limit: number | undefined;
  follow: boolean;
  json: boolean;
  /** Where followed lines go as they come. */
  write: (line: string) => void;
}

export async function logs(client: ApiClient, project: string, options: LogsOptions): Promise<CommandOutput> {
  if (options.follow && options.json) {
    throw new UsageError("--json prints one document, and --follow never ends: use one or the other");
  }
  const query = options.limit === undefined ? "" : `?limit=${options.limit}`;
  const recent = await client.request<{ logs: LogEntry[]; cursor: number }>(
    "GET",
    `${projectPath(project)}/logs${query}`,
  );
  if (!options.follow) {
    const text =
      recent.logs.length === 0 ? `${project} has no server-code logs yet` : recent.logs.map(formatLogLine).join("\n");
    return { json: recent, text };
  }
  recent.logs.forEach((line) => options.write(formatLogLine(line)));
  await follow(client, project, recent.cursor, options.write);
  return { json: null, text: "" };
}

/** Follows the logs until interrupted, reconnecting where the last stream ended. */
async function follow(
  client: ApiClient,
  project: string,
  cursor: number,
  write: (line: string) => void,
): Promise<void> {
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  let last = String(cursor);
  try {
    while (!stop.signal.aborted) {
      await client.events(
        `${projectPath(project)}/logs?follow=1`,
        (event) => {
          if (event.event === "log") {
            last = event.id ?? last;
            write(formatLogLine(JSON.parse(event.data) as LogEntry));
          }
        },
        { signal: stop.signal, lastEventId: last },
      );
    }
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  }
}

/** `2026-12-04 19:41:03  ERROR  20261204-…  GET /api/x 500  message` */
export function formatLogLine(line: LogEntry): string {
  const request = line.request ? `${line.request.method} ${line.request.path} ${line.request.status ?? "-"}  ` : "";
  return `${line.at.replace("T", " ").slice(0, 19)}  ${line.level.toUpperCase().padEnd(5)}  ${line.version}  ${request}${line.message}`;
}
