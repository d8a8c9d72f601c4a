/**
 * What a project's sites did: request analytics and the server code's
 * logs (any of the project's tokens may read them). Logs can be followed
 * as server-sent events: the stream asks the project's analytics for new
 * lines every FOLLOW_POLL_MS and ends after FOLLOW_MS; a client that
 * reconnects with Last-Event-ID (or `since`) misses nothing the ring
 * still holds.
 */
import type { IRequest } from "itty-router";
import { MAX_REPORT_MINUTES } from "../shared/limits.ts";
import { badField, queryInteger } from "./body.ts";
import { openProject, type ApiContext } from "./context.ts";

/** The window a report covers when `minutes` is not given. */
const DEFAULT_MINUTES = 60;
/** Log lines one answer holds, by default and at most. */
const DEFAULT_LOG_LINES = 100;
const MAX_LOG_LINES = 1000;
const FOLLOW_POLL_MS = 1000;
const FOLLOW_MS = 5 * 60 * 1000;
/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/** GET /api/projects/:project/analytics?minutes=N */
export async function getAnalytics(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "read analytics");
  const minutes = queryInteger(new URL(request.url).searchParams, "minutes", 1, MAX_REPORT_MINUTES, DEFAULT_MINUTES);
  const report = await ctx.env.ANALYTICS.getByName(scope.name).report(minutes);
  return Response.json({ project: scope.name, minutes, ...report });
}

/** GET /api/projects/:project/logs?since=&limit=, or with follow=1 (or Accept: text/event-stream) a stream. */
export async function getLogs(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "read logs");
  const query = new URL(request.url).searchParams;
  const limit = queryInteger(query, "limit", 1, MAX_LOG_LINES, DEFAULT_LOG_LINES);
  const lastEventId = request.headers.get("last-event-id");
  if (lastEventId !== null && !/^\d{1,16}$/.test(lastEventId)) {
    throw badField("Last-Event-ID", "must be the id of an event this stream sent");
  }
  const since =
    lastEventId !== null
      ? Number(lastEventId)
      : query.has("since")
        ? queryInteger(query, "since", 0, Number.MAX_SAFE_INTEGER, 0)
        : null;
  const follow = query.get("follow");
  if (follow !== null && follow !== "1" && follow !== "true") {
    throw badField("follow", 'must be "1" to follow the logs as they come');
  }
  const analytics = ctx.env.ANALYTICS.getByName(scope.name);
  if (follow === null && !(request.headers.get("accept") ?? "").includes("text/event-stream")) {
    return Response.json({ project: scope.name, ...(await analytics.logs(since, limit)) });
  }
  const start = since ?? (await analytics.lastLog());
  return new Response(
    eventStream((after) => analytics.logs(after, MAX_LOG_LINES), start),
    {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" },
    },
  );
}

type Page = { logs: { seq: number }[]; cursor: number };

/** Log lines after `start` as server-sent events, one `log` event each (its id the line's seq). */
function eventStream(next: (after: number) => Promise<Page>, start: number): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const send = (text: string): Promise<void> => writer.write(encoder.encode(text));
  const pump = async (): Promise<void> => {
    const until = Date.now() + FOLLOW_MS;
    let cursor = start;
    let beat = Date.now();
    await send(`retry: ${FOLLOW_POLL_MS}\n: following from ${start}\n\n`);
    while (Date.now() < until) {
      const page = await next(cursor);
      for (const line of page.logs) {
        await send(`id: ${line.seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`);
      }
      cursor = page.cursor;
      if (Date.now() - beat >= HEARTBEAT_MS) {
        beat = Date.now();
        await send(": still here\n\n");
      }
      if (page.logs.length < MAX_LOG_LINES) {
        await scheduler.wait(FOLLOW_POLL_MS);
      }
    }
    await writer.close();
  };
  // A client that leaves makes the next write fail, which ends the loop.
  void pump().catch(() => writer.abort().catch(() => undefined));
  return readable;
}
