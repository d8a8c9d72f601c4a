/**
 * The layout shows the architecture, and imports point one way:
 * rules ← manifest, registry, analytics ← api / serve / loader ← worker, with shared,
 * storage, blob and errors below them, and the CLI apart (talking to the platform over
 * HTTP, sharing only pure code). Read from the sources, so that
 * a change that breaks the layering fails here with the import named.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory()
      ? sources(path)
      : entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")
        ? [path]
        : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const found: Import[] = [];
  for (const match of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"(\.[^"]+)";/gms)) {
    const specifier = match[3] ?? "";
    if (!specifier.endsWith(".ts")) {
      continue;
    }
    // `import { type A, type B } from` is type-only too.
    const names = /^(?:import|export)\s+\{([^}]*)\}\s+from/s.exec(match[0])?.[1];
    const onlyTypes = names?.split(",").every((name) => name.trim() === "" || name.trim().startsWith("type ")) ?? false;
    found.push({
      from: relative(SRC, file),
      to: relative(SRC, resolve(dirname(file), specifier)),
      typeOnly: match[2] !== undefined || onlyTypes,
    });
  }
  return found;
}

const all = sources(SRC).flatMap(importsOf);
const runtime = all.filter((edge) => !edge.typeOnly);

/** The top-level part of `src` a file belongs to. */
function layerOf(path: string): string {
  const [first = "", second] = path.split("/");
  return second === undefined ? first.replace(/\.ts$/, "") : first;
}

/**
 * What each part may import at run time (types may cross more freely, but
 * never upwards into worker.ts). Expected failures are values (outcome.ts)
 * everywhere; only the HTTP edges (api, serve, loader, console, worker) use
 * errors.ts, which maps them to responses.
 */
const ALLOWED: Record<string, string[]> = {
  shared: ["shared", "outcome"],
  outcome: [],
  errors: ["outcome"],
  rules: ["rules", "shared", "outcome"],
  blob: ["blob", "shared", "outcome"],
  storage: ["storage", "outcome"],
  manifest: ["manifest", "rules", "blob", "storage", "shared", "outcome", "env"],
  analytics: ["analytics", "storage", "shared", "outcome", "env"],
  loader: ["loader", "analytics", "rules", "blob", "shared", "errors", "outcome", "env"],
  serve: ["serve", "analytics", "rules", "blob", "loader", "storage", "shared", "errors", "outcome", "env"],
  api: ["api", "registry", "rules", "blob", "loader", "shared", "errors", "outcome", "env"],
  registry: ["registry", "storage", "shared", "outcome", "env"],
  console: ["console", "errors", "outcome"],
  hosts: ["shared"],
  env: ["shared"],
  worker: ["api", "serve", "analytics", "manifest", "registry", "console", "hosts", "errors", "outcome", "env"],
  cli: ["cli", "shared", "rules", "errors", "outcome"],
  local: ["local", "cli"],
};

describe("imports", () => {
  it("are read from the sources", ({ expect }) => {
    expect(runtime.length).toBeGreaterThan(100);
  });

  it("point one way between the parts of the platform", ({ expect }) => {
    const wrong = runtime
      .filter((edge) => !(ALLOWED[layerOf(edge.from)] ?? []).includes(layerOf(edge.to)))
      .map((edge) => `${edge.from} → ${edge.to}`);
    expect(wrong).toEqual([]);
  });

  it("never reach src/serve from src/manifest, even for types", ({ expect }) => {
    const wrong = all.filter((edge) => edge.from.startsWith("manifest/") && edge.to.startsWith("serve/"));
    expect(wrong).toEqual([]);
  });

  it("form no cycle at run time", ({ expect }) => {
    const graph = new Map<string, string[]>();
    for (const edge of runtime) {
      graph.set(edge.from, [...(graph.get(edge.from) ?? []), edge.to]);
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === "done") {
        return;
      }
      if (state.get(node) === "open") {
        cycles.push([...path.slice(path.indexOf(node)), node].join(" → "));
        return;
      }
      state.set(node, "open");
      for (const next of graph.get(node) ?? []) {
        visit(next, [...path, node]);
      }
      state.set(node, "done");
    };
    for (const node of graph.keys()) {
      visit(node, []);
    }
    expect(cycles).toEqual([]);
  });
});
