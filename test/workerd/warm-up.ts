/**
 * Setup for the workerd tests. The first Durable Object call after the
 * Worker loads @cloudflare/worker-bundler is slow under the test runner
 * (seconds, once per run; wrangler dev and production load it in
 * milliseconds). Paying that once here keeps the tests' own timings honest.
 */
import { env } from "cloudflare:workers";
import { beforeAll } from "vitest";

let warmedUp = false;

beforeAll(async () => {
  if (warmedUp) {
    return;
  }
  await import("@cloudflare/worker-bundler");
  await env.MANIFEST.getByName("warm-up").getProject();
  warmedUp = true;
}, 120_000);
