/**
 * Atomic activation under load: while clients keep requesting a set of
 * paths, the live version flips between two versions 50 times. Every
 * response must be whole and from one version, and no request sent after an
 * activation returned may be served from a version older than it.
 */
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, it } from "vitest";
import { startPlatform, writeSite, type Platform } from "./platform.ts";

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform();
});

afterAll(async () => {
  await platform?.stop();
});

const FLIPS = 50;
const CLIENTS = 4;
/** Bounds the load whatever happens. */
const MAX_REQUESTS = 20_000;
const PATHS = ["/", "/a.txt", "/b/c.txt", "/big.bin"];

function siteFor(tag: string): Record<string, string | Uint8Array> {
  const big = new Uint8Array(64 * 1024).fill(tag.charCodeAt(0));
  return { "index.html": `<p>${tag}</p>`, "a.txt": `a from ${tag}`, "b/c.txt": `c from ${tag}`, "big.bin": big };
}

interface Flip {
  target: string;
  sent: number;
  returned: number;
}

interface Sample {
  path: string;
  sent: number;
  received: number;
  status: number;
  version: string;
  body: Buffer;
}

it("flips between two versions 50 times without a mixed, stale or failed response", async ({ expect }) => {
  const sites = { A: siteFor("A"), B: siteFor("B") };
  const versions: Record<string, string> = {};
  for (const tag of ["A", "B"] as const) {
    const dir = await writeSite(sites[tag]);
    const result = await platform.cli(["deploy", dir, "--project", "flip", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    versions[tag] = (JSON.parse(result.stdout) as { version: string }).version;
  }
  const tagOf = Object.fromEntries(Object.entries(versions).map(([tag, version]) => [version, tag as "A" | "B"]));

  const flips: Flip[] = [];
  const samples: Sample[] = [];
  const run = { flipping: true };

  const client = async (seed: number): Promise<void> => {
    for (let i = seed; run.flipping && samples.length < MAX_REQUESTS; i += 1) {
      const path = PATHS[i % PATHS.length] ?? "/";
      const sent = performance.now();
      const res = await platform.request("flip", path);
      samples.push({
        path,
        sent,
        received: performance.now(),
        status: res.status,
        version: String(res.headers["x-r2-assets-version"]),
        body: res.body,
      });
    }
  };

  const flipper = async (): Promise<void> => {
    for (let n = 0; n < FLIPS; n += 1) {
      const target = (n % 2 === 0 ? versions.A : versions.B) ?? "";
      const sent = performance.now();
      const res = await platform.api("POST", "/api/projects/flip/activate", { version: target });
      expect(res.status).toBe(200);
      flips.push({ target, sent, returned: performance.now() });
      // Let some requests through between flips.
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    run.flipping = false;
  };

  await Promise.all([flipper(), ...Array.from({ length: CLIENTS }, (_, i) => client(i))]);
  expect(flips).toHaveLength(FLIPS);
  expect(samples.length).toBeGreaterThan(FLIPS);

  for (const sample of samples) {
    expect(sample.status).toBe(200);
    const tag = tagOf[sample.version];
    expect(tag, `unknown version ${sample.version}`).toBeDefined();
    const expected = sites[tag ?? "A"][sample.path === "/" ? "index.html" : sample.path.slice(1)] ?? "";
    expect(Buffer.compare(sample.body, Buffer.from(expected)), `${sample.path} from ${tag}`).toBe(0);

    // The last activation that returned before this request was sent...
    const before = flips.filter((flip) => flip.returned <= sample.sent).at(-1);
    if (!before) {
      continue;
    }
    // ...or one sent while the request was in flight may have served it; nothing older.
    const allowed = new Set([
      before.target,
      ...flips.filter((f) => f.sent > before.returned && f.sent < sample.received).map((f) => f.target),
    ]);
    expect(allowed.has(sample.version), `request at ${sample.sent.toFixed(1)}ms served ${sample.version}`).toBe(true);
  }
});
