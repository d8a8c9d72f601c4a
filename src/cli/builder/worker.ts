/**
 * The CLI's bundler (see wrangler.toml beside this file). POST a JSON body
 * `{entry, files, compatibilityDate, compatibilityFlags}`; the answer is
 * `{ok: true, bundle}` or `{ok: false, message}`.
 */
import { createWorker } from "@cloudflare/worker-bundler";
import { checkStarts } from "../../loader/start-check.ts";
import type { BundleModule, ServerBundle } from "../../shared/server-code.ts";

interface Env {
  LOADER: WorkerLoader;
}

interface BundleRequest {
  entry: string;
  files: Record<string, string>;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const input = await request.json<BundleRequest>();
    let bundle: ServerBundle;
    try {
      const built = await createWorker({ files: input.files, entryPoint: input.entry, bundle: true });
      bundle = { mainModule: built.mainModule, modules: storable(built.modules) };
    } catch (error) {
      return Response.json({ ok: false, message: error instanceof Error ? error.message : String(error) });
    }
    const started = await checkStarts(env.LOADER, crypto.randomUUID(), bundle, {
      compatibilityDate: input.compatibilityDate,
      compatibilityFlags: input.compatibilityFlags,
      // The platform adds ASSETS; top-level code cannot call it anyway.
      env: input.vars,
      globalOutbound: null,
    });
    return Response.json(started.ok ? { ok: true, bundle } : { ok: false, message: started.failure.message });
  },
} satisfies ExportedHandler<Env>;

/** The bundler's modules with binary data as base64, so that they survive JSON. */
function storable(
  modules: Record<string, string | { js?: string; cjs?: string; text?: string; json?: object; data?: ArrayBuffer }>,
): Record<string, BundleModule> {
  const result: Record<string, BundleModule> = {};
  for (const [name, module] of Object.entries(modules)) {
    if (typeof module === "string") {
      result[name] = module;
    } else {
      const { data, ...rest } = module;
      result[name] = data ? { ...rest, data: toBase64(new Uint8Array(data)) } : rest;
    }
  }
  return result;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}
