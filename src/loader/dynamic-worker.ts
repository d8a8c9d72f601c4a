/**
 * Running a project's server code as a Dynamic Worker through the Worker
 * Loader binding. The isolate is keyed by project and version, whose code
 * never changes, so the loader callback (which reads the bundle from R2)
 * runs only when no isolate for that version is warm. The code gets its
 * variables and `ASSETS`, an AssetBinding pinned to the same version, and
 * nothing else: no other bindings and no outbound network.
 */
import { BlobStore } from "../blob/r2-store.ts";
import type { Env } from "../env.ts";
import { unwrap, visitorError } from "../errors.ts";
import { type Outcome } from "../outcome.ts";
import type { ServerRef } from "../manifest/contract.ts";
import { ASSETS_BINDING, type ServerBundle } from "../shared/server-code.ts";
import { confineCookies } from "../rules/cookies.ts";
import { loaderModules, readBundle } from "./bundle.ts";
import { serverFailure } from "./failure.ts";
import { checkStarts } from "./start-check.ts";
import { recording } from "../analytics/recorder.ts";

/** CPU time a request may spend in a project's server code. */
const SERVER_CPU_MS = 1000;

export interface ServerTarget {
  projectId: string;
  version: string;
  server: ServerRef;
  /** Headers every response of this version carries. */
  tags: Record<string, string>;
}

export async function runServerCode(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  target: ServerTarget,
): Promise<Response> {
  const { projectId, version, server } = target;
  const worker = env.LOADER.get(`${projectId}:${version}`, async () => {
    const bundle = unwrap(await readBundle(new BlobStore(env.BLOBS, projectId), server));
    return workerCode(bundle, server, env, ctx, { projectId, version });
  });
  try {
    return tagged(await worker.getEntrypoint().fetch(request), target.tags, new URL(request.url).hostname);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`server code of ${projectId} version ${version} failed: ${message}`);
    const failure = serverFailure(message);
    return visitorError(failure.status, {
      head: request.method === "HEAD",
      headers: target.tags,
      detail: failure.detail,
    });
  }
}

/** Checks that a staged version's server code starts (see start-check.ts). */
export async function checkServerCode(
  env: Env,
  ctx: ExecutionContext,
  projectId: string,
  version: string,
  server: ServerRef,
): Promise<Outcome<null>> {
  const bundle = await readBundle(new BlobStore(env.BLOBS, projectId), server);
  if (!bundle.ok) {
    return bundle;
  }
  // The check's own output is not the version's logs: no tail.
  const {
    mainModule: _,
    modules: __,
    tails: ___,
    ...settings
  } = workerCode(bundle.value, server, env, ctx, {
    projectId,
    version,
  });
  return checkStarts(env.LOADER, `check:${projectId}:${version}:${server.bundleHash}`, bundle.value, settings);
}

function workerCode(
  bundle: ServerBundle,
  server: ServerRef,
  env: Env,
  ctx: ExecutionContext,
  props: { projectId: string; version: string },
): WorkerLoaderWorkerCode {
  return {
    compatibilityDate: server.compatibilityDate,
    compatibilityFlags: server.compatibilityFlags,
    mainModule: bundle.mainModule,
    modules: loaderModules(bundle),
    env: { ...server.vars, [ASSETS_BINDING]: ctx.exports.AssetBinding({ props }) },
    globalOutbound: null,
    limits: { cpuMs: SERVER_CPU_MS },
    // Its console lines and uncaught exceptions become the project's logs (analytics/log-tail.ts).
    tails: recording(env) ? [ctx.exports.LogTail({ props })] : [],
  };
}

/** `response` with `tags` added to its headers, and its cookies kept to `host`. */
function tagged(response: Response, tags: Record<string, string>, host: string): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(tags)) {
    headers.set(name, value);
  }
  confineCookies(headers, host);
  return new Response(response.status === 101 ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
    webSocket: response.webSocket,
  });
}
