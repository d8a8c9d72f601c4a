/**
 * Three test projects:
 * - unit: pure functions, in Node, no I/O;
 * - workerd: the Worker in workerd with real local R2 and Durable Objects;
 * - e2e: the real CLI against a real `wrangler dev`, in Node.
 */
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root,
  // Quiets Vite's warnings about dependencies' source maps.
  logLevel: "error",
  test: {
    globalSetup: ["test/temp-root.ts"],
    projects: [
      {
        test: {
          name: "unit",
          root,
          include: ["test/unit/**/*.test.ts"],
          // Some tables are checked exhaustively; the machine is shared.
          testTimeout: 30_000,
        },
      },
      {
        logLevel: "error",
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // A short lease keeps activations quick here; its length does not
              // change what it guarantees.
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                ENVIRONMENT: "test",
                POINTER_LEASE_MS: "25",
                // Analytics flush within 50 ms here, so that tests see them at once.
                ANALYTICS_FLUSH_MS: "50",
                // Replays a fuzzing run (test/workerd/fuzz.test.ts).
                ...(process.env.R2_ASSETS_FUZZ_SEED ? { R2_ASSETS_FUZZ_SEED: process.env.R2_ASSETS_FUZZ_SEED } : {}),
              },
            },
          }),
        ],
        test: {
          name: "workerd",
          root,
          include: ["test/workerd/**/*.test.ts"],
          // Test files share one runtime, so that the Worker and its
          // dependencies load once per run rather than once per file.
          isolate: false,
          setupFiles: ["test/workerd/warm-up.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          root,
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One wrangler dev at a time: the machine has two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
