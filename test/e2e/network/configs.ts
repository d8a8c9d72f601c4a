/**
 * A network in one `wrangler dev`: a front Worker (router.ts: the platform,
 * its Durable Objects, and a router to the serving isolates) and serving
 * isolates (edge.ts), each a Worker of its own and so its own isolate,
 * bound to the same Durable Objects and R2 bucket, grouped into locations
 * that share a Cache API. A request marked `x-sim-isolate: N` is served by
 * isolate N, with `x-sim-rtt` ms added to each of its Durable Object calls.
 * Used by the network simulation (`npm run sim`) and the tests of leases
 * across isolates.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "../platform.ts";

export interface Network {
  token: string;
  leaseMs: number;
  locations: number;
  isolatesPerLocation: number;
}

/** Writes the front Worker's configuration, then one per serving isolate; returns their paths in that order. */
export async function writeNetworkConfigs(dir: string, network: Network): Promise<string[]> {
  const here = "test/e2e/network";
  const shared = (entry: string): string[] => [
    `main = "${join(ROOT, here, entry)}"`,
    `base_dir = "${ROOT}"`,
    `compatibility_date = "2026-11-01"`,
    "",
    "[vars]",
    `ROOT_DOMAIN = "localhost"`,
    `ADMIN_TOKEN = "${network.token}"`,
    `POINTER_LEASE_MS = "${network.leaseMs}"`,
  ];
  const rules = ["", "[[rules]]", `type = "Text"`, await platformTextGlobs(), "fallthrough = true"];
  const bucket = ["", "[[r2_buckets]]", `binding = "BLOBS"`, `bucket_name = "r2-assets"`];
  const edges = Array.from({ length: network.locations * network.isolatesPerLocation }, (_, n) => n);
  const front = [
    `name = "r2-assets-sim"`,
    ...shared("router.ts"),
    ...bucket,
    "",
    "[[durable_objects.bindings]]",
    `name = "MANIFEST"`,
    `class_name = "ProjectManifest"`,
    "[[durable_objects.bindings]]",
    `name = "REGISTRY"`,
    `class_name = "ProjectRegistry"`,
    "[[durable_objects.bindings]]",
    `name = "ANALYTICS"`,
    `class_name = "ProjectAnalytics"`,
    "[[migrations]]",
    `tag = "v1"`,
    `new_sqlite_classes = ["ProjectManifest", "ProjectRegistry", "ProjectAnalytics"]`,
    "[[worker_loaders]]",
    `binding = "LOADER"`,
    ...edges.flatMap((n) => ["[[services]]", `binding = "EDGE_${n}"`, `service = "r2-assets-sim-edge-${n}"`]),
    ...rules,
  ];
  const paths = [join(dir, "front.toml")];
  await writeFile(paths[0] as string, front.join("\n"));
  for (const n of edges) {
    const edge = [
      `name = "r2-assets-sim-edge-${n}"`,
      ...shared("edge.ts"),
      `SIM_LOCATION = "${Math.floor(n / network.isolatesPerLocation)}"`,
      ...bucket,
      "",
      "[[durable_objects.bindings]]",
      `name = "MANIFEST"`,
      `class_name = "ProjectManifest"`,
      `script_name = "r2-assets-sim"`,
      "[[durable_objects.bindings]]",
      `name = "REGISTRY"`,
      `class_name = "ProjectRegistry"`,
      `script_name = "r2-assets-sim"`,
      "[[durable_objects.bindings]]",
      `name = "ANALYTICS"`,
      `class_name = "ProjectAnalytics"`,
      `script_name = "r2-assets-sim"`,
      "[[worker_loaders]]",
      `binding = "LOADER"`,
      ...rules,
    ];
    const path = join(dir, `edge-${n}.toml`);
    await writeFile(path, edge.join("\n"));
    paths.push(path);
  }
  return paths;
}

/** The platform's own `globs` line of its Text rule (wrangler.toml), so that both run the same modules as text. */
async function platformTextGlobs(): Promise<string> {
  const config = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const line = /^globs = \[.*\]$/m.exec(config)?.[0];
  if (!line) {
    throw new Error("wrangler.toml has no globs line for its Text rule");
  }
  return line;
}
