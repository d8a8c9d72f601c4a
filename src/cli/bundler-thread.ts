/**
 * The CLI's bundler, run in a Node worker thread by bundle.ts: esbuild's
 * WebAssembly build (the engine @cloudflare/worker-bundler's createWorker
 * uses, with the same output: one ES module, `bundle.js`), fed the sources
 * bundle.ts collected. In a thread, a source that makes esbuild hang or
 * run out of stack stops the thread, not the deploy's process.
 *
 * workerData: {entry, files, nodejsCompat}; one message back:
 * {ok: true, bundle} or {ok: false, message}.
 */
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import type * as Esbuild from "esbuild-wasm";
import type { ServerBundle } from "../shared/server-code.ts";

interface BundleInput {
  entry: string;
  files: Record<string, string>;
  nodejsCompat: boolean;
}

const NAMESPACE = "virtual";

async function bundle({ entry, files, nodejsCompat }: BundleInput): Promise<ServerBundle> {
  // esbuild's browser build, which runs its WebAssembly in this thread (its
  // Node build would start a child process); it looks for `self`.
  (globalThis as { self?: unknown }).self ??= globalThis;
  const browserBuild = import.meta.resolve("esbuild-wasm/esm/browser.js");
  const esbuild = (await import(browserBuild)) as typeof Esbuild;
  const wasm = await readFile(new URL("../esbuild.wasm", browserBuild));
  // Node has WebAssembly; the CLI's type library (es2024 + Node) does not declare it.
  const { WebAssembly: wasmApi } = globalThis as unknown as {
    WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> };
  };
  await esbuild.initialize({ wasmModule: (await wasmApi.compile(wasm)) as never, worker: false });
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: nodejsCompat ? "node" : "browser",
    target: "es2022",
    outfile: "bundle.js",
    logLevel: "silent",
    plugins: [
      {
        name: "sources",
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === "entry-point") {
              return { path: args.path, namespace: NAMESPACE };
            }
            if (args.path.startsWith(".")) {
              const path = resolveSource(args.resolveDir, args.path, files);
              if (path !== null) {
                return { path, namespace: NAMESPACE };
              }
            }
            // Packages are not bundled: the platform refuses what it cannot provide.
            return args.path.startsWith(".") ? null : { path: args.path, external: true };
          });
          build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
            contents: files[args.path] ?? "",
            loader: loaderFor(args.path),
            resolveDir: args.path.includes("/") ? args.path.slice(0, args.path.lastIndexOf("/")) : "",
          }));
        },
      },
    ],
  });
  const output = result.outputFiles[0];
  if (output === undefined) {
    throw new Error("esbuild wrote no bundle");
  }
  return { mainModule: "bundle.js", modules: { "bundle.js": output.text } };
}

const SUFFIXES = ["", ".ts", ".tsx", ".js", ".jsx", ".mts", ".mjs", ".json"];

/** A relative import among the collected sources, as server-files.ts found it. */
function resolveSource(dir: string, specifier: string, files: Record<string, string>): string | null {
  const parts = dir === "" ? [] : dir.split("/");
  for (const part of specifier.split("/")) {
    if (part === "..") {
      parts.pop();
    } else if (part !== ".") {
      parts.push(part);
    }
  }
  const base = parts.join("/");
  const stems = /\.(m?js|jsx)$/.test(base) ? [base, base.replace(/\.(m?)js(x?)$/, ".$1ts$2")] : [base];
  for (const stem of stems) {
    for (const suffix of [...SUFFIXES, ...SUFFIXES.slice(1).map((s) => `/index${s}`)]) {
      if (Object.hasOwn(files, stem + suffix)) {
        return stem + suffix;
      }
    }
  }
  return null;
}

function loaderFor(path: string): "ts" | "tsx" | "jsx" | "json" | "js" {
  if (/\.m?ts$/.test(path)) {
    return "ts";
  }
  if (path.endsWith(".tsx")) {
    return "tsx";
  }
  if (path.endsWith(".jsx")) {
    return "jsx";
  }
  return path.endsWith(".json") ? "json" : "js";
}

/** The one answer to bundle.ts (a MessagePort, which takes no target origin). */
function reply(answer: { ok: true; bundle: ServerBundle } | { ok: false; message: string }): void {
  // oxlint-disable-next-line unicorn/require-post-message-target-origin
  parentPort?.postMessage(answer);
}

bundle(workerData as BundleInput).then(
  (result) => reply({ ok: true, bundle: result }),
  (error: unknown) => reply({ ok: false, message: error instanceof Error ? error.message : String(error) }),
);
