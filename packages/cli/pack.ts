/**
 * `npm run pack:cli`: compiles the CLI (src/cli) to JavaScript for Node 20
 * and writes the installable package, packages/cli, as a tarball in dist/.
 * The last line of stdout is the tarball's path.
 *
 * Everything the CLI imports is bundled into dist/main.js except esbuild's
 * WebAssembly build, which the server-code bundler loads from its own
 * package at run time.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { VERSION } from "../../src/cli/version.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const PACKAGE = join(ROOT, "packages/cli");
const OUT = join(ROOT, "dist");

const manifest = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
};
if (manifest.version !== VERSION) {
  throw new Error(`packages/cli/package.json says ${manifest.version}; src/cli/version.ts says ${VERSION}`);
}

/**
 * The CLI takes only inferContentType from @cloudflare/worker-bundler; the
 * packages its bundling functions import (and its esbuild.wasm, which only
 * workerd can load) are left out as empty modules.
 */
const onlyInferContentType: esbuild.Plugin = {
  name: "only-infer-content-type",
  setup(build) {
    build.onResolve({ filter: /^[^.]|\.wasm$/ }, (args) =>
      args.importer.includes("/@cloudflare/worker-bundler/") && !args.path.startsWith("node:")
        ? { path: args.path, namespace: "left-out" }
        : null,
    );
    build.onLoad({ filter: /.*/, namespace: "left-out" }, () => ({ contents: "", loader: "js" }));
  },
};

rmSync(join(PACKAGE, "dist"), { recursive: true, force: true });
await esbuild.build({
  entryPoints: {
    main: join(ROOT, "src/cli/main.ts"),
    "bundler-thread": join(ROOT, "src/cli/bundler-thread.ts"),
    "compress-thread": join(ROOT, "src/cli/compress-thread.ts"),
  },
  outdir: join(PACKAGE, "dist"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: Object.keys(manifest.dependencies),
  legalComments: "linked",
  plugins: [onlyInferContentType],
  logLevel: "warning",
});

mkdirSync(OUT, { recursive: true });
// npm's own chatter goes to stderr; it prints the tarball's name on stdout.
const name = execFileSync("npm", ["pack", "--pack-destination", OUT, "--silent"], {
  cwd: PACKAGE,
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
})
  .trim()
  .split("\n")
  .at(-1);
if (name === undefined || name === "") {
  throw new Error("npm pack named no tarball");
}
process.stdout.write(`${join(OUT, name)}\n`);
