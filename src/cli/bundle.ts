/**
 * Bundling a deploy's server code, on this machine, before anything is
 * uploaded: the CLI starts its bundler Worker (src/cli/builder) in workerd
 * through wrangler, which bundles with createWorker of
 * @cloudflare/worker-bundler and checks that the bundle starts. A bundler
 * that crashes or hangs on strange input stops this deploy only.
 */
import { join } from "node:path";
import type { ServerBundle, ServerSettings } from "../shared/server-code.ts";
import { CliError } from "./errors.ts";
import { hashBytes } from "./hash.ts";
import { collectServerFiles } from "./server-files.ts";

const BUILDER_CONFIG = join(import.meta.dirname, "builder/wrangler.toml");

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
  const answer = await runBundler({ entry: entryPoint, files, ...settings });
  if (!answer.ok) {
    throw new CliError(`--server: the server code does not bundle: ${oneLine(answer.message)}`);
  }
  const bytes = Buffer.from(JSON.stringify(answer.bundle));
  return { bytes, hash: hashBytes(bytes), files: Object.keys(files) };
}

type BundlerAnswer = { ok: true; bundle: ServerBundle } | { ok: false; message: string };

async function runBundler(input: Record<string, unknown>): Promise<BundlerAnswer> {
  // Loaded only when a deploy has server code: wrangler is large.
  const { unstable_startWorker } = await import("wrangler");
  const worker = await unstable_startWorker({
    config: BUILDER_CONFIG,
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, logLevel: "none" },
  } as Parameters<typeof unstable_startWorker>[0]);
  try {
    await worker.ready;
    const response = await worker.fetch("http://bundler/", { method: "POST", body: JSON.stringify(input) });
    const text = await response.text();
    try {
      return JSON.parse(text) as BundlerAnswer;
    } catch {
      return { ok: false, message: text.split("\n")[0] ?? `the bundler answered ${response.status}` };
    }
  } finally {
    await worker.dispose();
  }
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
