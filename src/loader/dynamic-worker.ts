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
import type { ServerRef } from "../manifest/server-code.ts";
import { ASSETS_BINDING } from "../shared/server-code.ts";
import { loaderModules, type StoredBundle } from "./bundle.ts";
import { serverFailure } from "./failure.ts";

/** CPU time a request may spend in a project's server code. */
const SERVER_CPU_MS = 1000;

export interface ServerTarget {
  projectId: string;
  version: string;
  server: ServerRef;
}

export async function runServerCode(request: Request, env: Env, ctx: ExecutionContext, target: ServerTarget): Promise<Response> {
  const { projectId, version, server } = target;
  const worker = env.LOADER.get(`${projectId}:${version}`, async () => {
    const bundle = await readBundle(new BlobStore(env.BLOBS, projectId), server.bundleHash);
    return {
      compatibilityDate: server.compatibilityDate,
      compatibilityFlags: server.compatibilityFlags,
      mainModule: bundle.mainModule,
      modules: loaderModules(bundle),
      env: { ...server.vars, [ASSETS_BINDING]: ctx.exports.AssetBinding({ props: { projectId, version } }) },
      globalOutbound: null,
      limits: { cpuMs: SERVER_CPU_MS },
    };
  });
  try {
    return await worker.getEntrypoint().fetch(request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`server code of ${projectId} version ${version} failed: ${message}`);
    const failure = serverFailure(message);
    return new Response(failure.body, {
      status: failure.status,
      headers: { "content-type": "text/plain; charset=utf-8", "x-r2-assets-version": version },
    });
  }
}

async function readBundle(store: BlobStore, hash: string): Promise<StoredBundle> {
  const bundle = await store.getJson<StoredBundle>(hash);
  if (!bundle) {
    throw new Error(`server bundle ${hash} is missing from R2`);
  }
  return bundle;
}
