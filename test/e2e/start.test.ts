/**
 * `npm start`, the README's first command: it runs the platform, deploys
 * the demo site and the full-stack example, and prints URLs that answer.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, it } from "vitest";
import { freePort, killGroup, ROOT } from "./platform.ts";

let child: ChildProcess | null = null;
let state: string | null = null;

afterAll(async () => {
  if (child) {
    const exited = new Promise((resolve) => child?.once("close", resolve));
    killGroup(child, "SIGTERM");
    await exited;
  }
  if (state) {
    await rm(state, { recursive: true, force: true });
  }
});

/** Waits until `output()` contains `text`, or the process ends, or the time is up. */
async function waitFor(output: () => string, text: string, process: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!output().includes(text)) {
    if (process.exitCode !== null || Date.now() > deadline) {
      throw new Error(`npm start did not print "${text}":\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** GETs a URL printed as http://<host>.localhost:<port>/..., connecting to 127.0.0.1. */
async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const { host, pathname } = new URL(url);
  const port = host.split(":")[1];
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: pathname, headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode })));
    });
    req.on("error", reject);
    req.end();
  });
}

it(
  "starts the platform with the demo site and the full-stack example, and prints where they are",
  { timeout: 240_000 },
  async ({ expect }) => {
    const port = await freePort();
    state = await mkdtemp(join(tmpdir(), "r2a-start-state-"));
    let output = "";
    const start = async (): Promise<ChildProcess> => {
      output = "";
      const started = spawn("npm", ["start", "--", "--persist-to", state ?? ""], {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PORT: String(port), WRANGLER_SEND_METRICS: "false" },
      });
      child = started;
      started.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
      started.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => output, "r2-assets is running.", started, 200_000);
      return started;
    };
    const first = await start();

    const demo = /Demo site:\s+(\S+)/.exec(output)?.[1];
    const fullstack = /Full-stack example:\s+(\S+)/.exec(output)?.[1];
    const token = /Admin token:\s+(\S+)/.exec(output)?.[1];
    expect(demo).toBe(`http://demo.localhost:${port}/`);
    expect(fullstack).toBe(`http://fullstack.localhost:${port}/`);
    expect(readFileSync(join(ROOT, ".dev.vars"), "utf8")).toContain(`ADMIN_TOKEN="${token}"`);

    const home = await get(demo ?? "");
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("<html");
    const hello = await get(`${fullstack}api/hello`);
    expect(hello.status).toBe(200);
    expect(await hello.json()).toMatchObject({ message: "Hello from the server code" });
    const route = await get(`${fullstack}notes`, { "sec-fetch-mode": "navigate" });
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('id="message"');
    // The console's address, and the console itself.
    const consoleUrl = /Console:\s+(\S+)/.exec(output)?.[1];
    expect(consoleUrl).toBe(`http://localhost:${port}/`);
    expect(await (await get(consoleUrl ?? "")).text()).toContain("r2-assets console");
    // The API's address answers (#27), and nothing printed looks like a failure.
    const apiUrl = /API:\s+(\S+)/.exec(output)?.[1] ?? "";
    expect(await (await get(apiUrl)).json()).toMatchObject({ name: "r2-assets" });
    expect(output).not.toMatch(/ENOTFOUND|Request\.cf|Error:/);

    // A second start leaves every project's versions and history as they were (#27).
    const api = async (path: string): Promise<unknown> =>
      (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
    const before = await Promise.all(
      ["demo", "fullstack"].flatMap((p) => [api(`/api/projects/${p}/versions`), api(`/api/projects/${p}/history`)]),
    );
    const exited = new Promise((resolve) => first.once("close", resolve));
    killGroup(first, "SIGTERM");
    await exited;
    await start();
    const after = await Promise.all(
      ["demo", "fullstack"].flatMap((p) => [api(`/api/projects/${p}/versions`), api(`/api/projects/${p}/history`)]),
    );
    expect(after).toEqual(before);
  },
);
