/**
 * LogTail: the tail Worker of every project's server code. The platform
 * hands `ctx.exports.LogTail({ props })` to the Worker Loader as the
 * Dynamic Worker's tail (see loader/dynamic-worker.ts), so after each
 * invocation its console lines and uncaught exceptions arrive here and
 * join the project's next analytics flush: no call per invocation.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { linesOf } from "./aggregate.ts";
import { recordLogs, recording } from "./recorder.ts";

export interface LogTailProps {
  projectId: string;
  version: string;
}

export class LogTail extends WorkerEntrypoint<Env, LogTailProps> {
  override tail(events: TraceItem[]): void {
    if (!recording(this.env)) {
      return;
    }
    const { projectId, version } = this.ctx.props;
    const lines = events.flatMap((event) => linesOf(event, version));
    recordLogs(this.env, projectId, lines, (promise) => this.ctx.waitUntil(promise));
  }
}
