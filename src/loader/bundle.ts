/**
 * Bundling a version's server code with createWorker from
 * @cloudflare/worker-bundler, and the stored form of the result: one JSON
 * document, kept in R2 as a content-addressed blob.
 */
import type { ServerSource } from "../shared/server-code.ts";
import { oneLine } from "./bundle-message.ts";

/** A module as the Worker Loader takes it, with binary data as base64 so it survives JSON. */
type StoredModule = string | { js?: string; cjs?: string; text?: string; json?: unknown; data?: string };

export interface StoredBundle {
  mainModule: string;
  modules: Record<string, StoredModule>;
}

export type BundleOutcome = { ok: true; bundle: StoredBundle } | { ok: false; message: string };

/** Bundles `source`; a failure carries the bundler's message. */
export async function bundleServer(source: ServerSource): Promise<BundleOutcome> {
  // Imported on first use: most requests never bundle anything.
  const { createWorker } = await import("@cloudflare/worker-bundler");
  try {
    const result = await createWorker({ files: source.files, entryPoint: source.entry, bundle: true });
    const modules: Record<string, StoredModule> = {};
    for (const [name, module] of Object.entries(result.modules)) {
      if (typeof module === "string") {
        modules[name] = module;
      } else {
        const { data, ...rest } = module;
        modules[name] = data ? { ...rest, data: toBase64(new Uint8Array(data)) } : rest;
      }
    }
    const missing = unresolvedImports(modules);
    if (missing.length > 0) {
      return {
        ok: false,
        message:
          `it imports ${missing.map((name) => JSON.stringify(name)).join(", ")}, which is not among the deployed files ` +
          "(server code may import its own local files, cloudflare: and node: modules)",
      };
    }
    return { ok: true, bundle: { mainModule: result.mainModule, modules } };
  } catch (error) {
    return { ok: false, message: oneLine(error instanceof Error ? error.message : String(error)) };
  }
}


/** Runtime modules a bundle may import without shipping them. */
const BUILT_IN = /^(cloudflare|node|workerd):/;
// esbuild writes the imports it leaves at the start of a line; dynamic
// imports may be anywhere.
const IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/**
 * Imports in the bundle that nothing will satisfy at run time. The bundler
 * leaves what it cannot resolve as an import, which would only fail when
 * the Worker loads; finding them here fails the deploy instead.
 */
function unresolvedImports(modules: Record<string, StoredModule>): string[] {
  const missing = new Set<string>();
  for (const [name, module] of Object.entries(modules)) {
    const code = typeof module === "string" ? module : (module.js ?? module.cjs);
    if (code === undefined) {
      continue;
    }
    for (const match of code.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? "";
      const target = specifier.startsWith(".") ? new URL(specifier, `file:///${name}`).pathname.slice(1) : specifier;
      if (!BUILT_IN.test(specifier) && !(target in modules)) {
        missing.add(specifier);
      }
    }
  }
  return [...missing];
}

/** The modules of a stored bundle, ready for the Worker Loader. */
export function loaderModules(bundle: StoredBundle): Record<string, string | WorkerLoaderModule> {
  const modules: Record<string, string | WorkerLoaderModule> = {};
  for (const [name, module] of Object.entries(bundle.modules)) {
    if (typeof module === "string") {
      modules[name] = module;
    } else {
      const { data, ...rest } = module;
      modules[name] = data === undefined ? rest : { ...rest, data: fromBase64(data).buffer as ArrayBuffer };
    }
  }
  return modules;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}
