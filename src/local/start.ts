/**
 * `npm start`: runs the platform locally (wrangler dev, with local R2 and
 * Durable Objects kept in .wrangler/state), deploys the demo site from
 * examples/demo and the full-stack example from examples/fullstack, and
 * prints where to open them. Ctrl-C stops everything. PORT sets the port
 * (8787); extra arguments are passed to wrangler dev.
 */
import { spawn } from "node:child_process";
import { Transform } from "node:stream";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ApiClient } from "../cli/client.ts";
import { deploy, type DeployOptions, type DeployResult } from "../cli/deploy.ts";
import { Progress } from "../cli/progress.ts";
import { wranglerDevEnv } from "./wrangler-env.ts";

const ROOT = join(import.meta.dirname, "../..");
const PORT = Number(process.env.PORT ?? 8787);
const DEV_VARS = join(ROOT, ".dev.vars");

/** The admin token from .dev.vars, written with a fresh random one if absent. */
function adminToken(): string {
  const existing = existsSync(DEV_VARS)
    ? /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(readFileSync(DEV_VARS, "utf8"))
    : null;
  if (existing?.[1]) {
    return existing[1];
  }
  const token = randomBytes(24).toString("base64url");
  const vars = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, "utf8") : "";
  writeFileSync(
    DEV_VARS,
    `${vars}${vars && !vars.endsWith("\n") ? "\n" : ""}ADMIN_TOKEN="${token}"\nENVIRONMENT="development"\n`,
  );
  console.log(`Wrote a new admin token to .dev.vars`);
  return token;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function waitForHealth(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) {
        return;
      }
    } catch {
      // Not up yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`the platform did not answer on ${url} within a minute`);
}

async function main(): Promise<void> {
  if (!(await portIsFree(PORT))) {
    console.error(`r2-assets: error: port ${PORT} is in use; stop what uses it or run PORT=<port> npm start`);
    process.exitCode = 1;
    return;
  }
  const token = adminToken();
  // Extra arguments go to wrangler dev (`npm start -- --persist-to /tmp/state`).
  const wrangler = spawn(
    "npx",
    ["wrangler", "dev", "--port", String(PORT), "--ip", "127.0.0.1", ...process.argv.slice(2)],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: wranglerDevEnv(),
    },
  );
  // Offline, wrangler warns that it cannot fetch `Request.cf`, with a stack
  // trace, each time it starts a runtime: nothing is wrong, so nothing is shown.
  wrangler.stdout.pipe(withoutOfflineNoise()).pipe(process.stdout);
  wrangler.stderr.pipe(withoutOfflineNoise()).pipe(process.stderr);
  const stop = (): void => {
    wrangler.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  wrangler.on("exit", (code) => process.exit(code ?? 0));

  const url = `http://127.0.0.1:${PORT}`;
  await waitForHealth(url, Date.now() + 60_000);
  const client = new ApiClient({ url, token });
  const progress = new Progress("lines");
  const demo = await deployExample(client, progress, {
    dir: join(ROOT, "examples/demo"),
    project: "demo",
    message: "demo site (npm start)",
    config: { not_found_handling: "404-page" },
  });
  const fullstack = await deployExample(client, progress, {
    dir: join(ROOT, "examples/fullstack/public"),
    project: "fullstack",
    message: "full-stack example (npm start)",
    config: { not_found_handling: "single-page-application", run_worker_first: ["/api/*"] },
    server: {
      entry: join(ROOT, "examples/fullstack/server/index.ts"),
      vars: { GREETING: "Hello" },
      compatibilityFlags: [],
    },
  });
  console.log(`
  r2-assets is running.

  Demo site:           ${demo.url}   (version ${demo.version})
  Full-stack example:  ${fullstack.url}   (an SPA with server code at /api/*)
  Console:             http://localhost:${PORT}/   (sign in with the admin token)
  API:                 http://localhost:${PORT}/api/
  Admin token:         ${token}   (in .dev.vars)

  Try:  R2_ASSETS_TOKEN=${token} npx r2-assets versions --project demo
  Stop: Ctrl-C
`);
}

/**
 * Deploys an example: live if its project has no live version yet;
 * otherwise staged, so that a restart never moves live behind its user's
 * back (and a deploy that repeats a version makes none).
 */
async function deployExample(
  client: ApiClient,
  progress: Progress,
  options: Omit<DeployOptions, "activate">,
): Promise<DeployResult> {
  const live = await client
    .request<{ activeVersion: string | null }>("GET", `/api/projects/${options.project}`)
    .then((project) => project.activeVersion)
    .catch(() => null);
  const result = await deploy(client, { ...options, activate: live === null }, progress);
  if (live !== null && !result.unchanged) {
    progress.note(`${options.project}: the example changed; staged as ${result.version} (live stays ${live})`);
  }
  return live === null ? result : { ...result, version: live };
}

/** A line filter that drops wrangler's offline `Request.cf` warning and the stack trace after it. */
function withoutOfflineNoise(): Transform {
  let skipping = false;
  let rest = "";
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      const kept = lines.filter((line) => {
        if (line.includes("Unable to fetch the `Request.cf` object")) {
          skipping = true;
          return false;
        }
        if (skipping && (line.startsWith("Error: getaddrinfo ENOTFOUND") || /^\s+at /.test(line))) {
          return false;
        }
        skipping = false;
        return true;
      });
      done(null, kept.length > 0 ? `${kept.join("\n")}\n` : "");
    },
    flush(done) {
      done(null, rest);
    },
  });
}

main().catch((error: unknown) => {
  console.error(`r2-assets: error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
