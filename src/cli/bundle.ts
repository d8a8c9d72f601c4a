/**
 * Bundling a deploy's server code, on this machine, before anything is
 * uploaded: bundler-thread.ts runs esbuild in a worker thread, with a time
 * limit and a memory cap, so that a source that hangs or crashes the
 * bundler stops this deploy with one line. Nothing here needs the network
 * or a Workers runtime; the platform checks that the bundle starts when the
 * deploy is finalized.
 */
import { extname } from "node:path";
import { Worker } from "node:worker_threads";
import type { ServerBundle, ServerSettings } from "../shared/server-code.ts";
import { CliError } from "./errors.ts";
import { hashBytes } from "./hash.ts";
import { collectServerFiles } from "./server-files.ts";

/** How long bundling may take. */
const BUNDLE_TIMEOUT_MS = 60_000;
/** The bundler thread's JavaScript heap. */
const BUNDLE_HEAP_MB = 512;

export interface BuiltServer {
  /** The bundle as stored: JSON bytes, and their content hash. */
  bytes: Buffer;
  hash: string;
  /** The sources' file names, as the user wrote them. */
  files: string[];
}

/** Bundles the server code whose entry module is `entry`; a failure is one line. */
export async function bundleServer(entry: string, settings: ServerSettings): Promise<BuiltServer> {
  const { entry: entryPoint, files } = await collectServerFiles(entry);
  const nodejsCompat = settings.compatibilityFlags.some((flag) => flag.startsWith("nodejs_compat"));
  const answer = await runBundler({ entry: entryPoint, files, nodejsCompat });
  if (!answer.ok) {
    throw new CliError(`--server: the server code does not bundle: ${oneLine(answer.message)}`);
  }
  const bytes = Buffer.from(JSON.stringify(answer.bundle));
  return { bytes, hash: hashBytes(bytes), files: Object.keys(files) };
}

type BundlerAnswer = { ok: true; bundle: ServerBundle } | { ok: false; message: string };

function runBundler(input: {
  entry: string;
  files: Record<string, string>;
  nodejsCompat: boolean;
}): Promise<BundlerAnswer> {
  // The thread's module sits beside this one, compiled or not.
  const thread = new URL(`./bundler-thread${extname(new URL(import.meta.url).pathname)}`, import.meta.url);
  const worker = new Worker(thread, {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: BUNDLE_HEAP_MB },
    stdout: true,
    stderr: true,
  });
  return new Promise<BundlerAnswer>((resolve) => {
    let answered = false;
    const answer = (result: BundlerAnswer): void => {
      if (!answered) {
        answered = true;
        clearTimeout(timer);
        void worker.terminate();
        resolve(result);
      }
    };
    const timer = setTimeout(
      () => answer({ ok: false, message: `the bundler did not finish within ${BUNDLE_TIMEOUT_MS / 1000} s` }),
      BUNDLE_TIMEOUT_MS,
    );
    worker.on("message", (message: BundlerAnswer) => answer(message));
    worker.on("error", (error) => answer({ ok: false, message: `the bundler stopped: ${error.message}` }));
    worker.on("exit", (code) => answer({ ok: false, message: `the bundler stopped (exit code ${code})` }));
  });
}

/**
 * A bundler's message on one line: esbuild reports "Build failed with N
 * errors:" and then one error per line, naming files in its virtual file
 * system; this names them as the user wrote them.
 */
export function oneLine(message: string): string {
  return message
    .replace(/^Build failed with \d+ errors?:\s*/, "")
    .replace(/\bvirtual:/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join("; ");
}
