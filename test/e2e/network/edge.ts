/**
 * One serving isolate of the simulation: the platform Worker as it runs at
 * a Cloudflare location, with
 * - its location's own Cache API (SIM_LOCATION): isolates of one location
 *   share it, other locations do not;
 * - a round trip to every Durable Object call (the request's x-sim-rtt
 *   header, in ms), as from a location far from the object.
 * Nothing else differs from the platform's own Worker.
 */
import platform from "../../../src/worker.ts";
import type { Env } from "../../../src/env.ts";

interface EdgeEnv extends Env {
  SIM_LOCATION: string;
}

let located = false;

/** Points caches.default at a cache of this location's own. */
function useLocationCache(location: string): void {
  if (located) {
    return;
  }
  located = true;
  const original = caches;
  const named = original.open(`location-${location}`);
  const local = {
    match: async (...args: Parameters<Cache["match"]>) => (await named).match(...args),
    put: async (...args: Parameters<Cache["put"]>) => (await named).put(...args),
    delete: async (...args: Parameters<Cache["delete"]>) => (await named).delete(...args),
  };
  Object.defineProperty(globalThis, "caches", {
    value: { default: local, open: (name: string) => original.open(name) },
    configurable: true,
  });
}

/** A Durable Object namespace whose stubs take `rttMs` longer per call, half each way. */
function distant<N extends object>(namespace: N, rttMs: number): N {
  if (rttMs === 0) {
    return namespace;
  }
  const half = (): Promise<void> => scheduler.wait(rttMs / 2);
  return new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (property !== "getByName" || typeof value !== "function") {
        return value;
      }
      return (name: string) => {
        const stub = Reflect.apply(value as (name: string) => object, target, [name]);
        return new Proxy(stub, {
          get(inner, method) {
            const call = Reflect.get(inner, method) as unknown;
            if (typeof method !== "string" || method === "then" || typeof call !== "function") {
              return call;
            }
            return async (...args: unknown[]) => {
              await half();
              const result: unknown = await Reflect.apply(call as (...a: unknown[]) => Promise<unknown>, inner, args);
              await half();
              return result;
            };
          },
        });
      };
    },
  });
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    useLocationCache(env.SIM_LOCATION);
    const rtt = Number(request.headers.get("x-sim-rtt") ?? "0") || 0;
    const far: EdgeEnv = { ...env, MANIFEST: distant(env.MANIFEST, rtt), REGISTRY: distant(env.REGISTRY, rtt) };
    return platform.fetch(request, far, ctx);
  },
} satisfies ExportedHandler<EdgeEnv>;
