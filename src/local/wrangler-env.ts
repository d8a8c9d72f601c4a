/**
 * The environment `wrangler dev` runs the platform with, locally and in
 * the tests and benchmark.
 */

/**
 * wrangler dev attaches a trace collector to the Worker by default: it
 * records every request, RPC call and SQL statement in its own Durable
 * Object, on workerd's one thread, and took about half of that thread while
 * files were uploaded. It is off unless X_LOCAL_OBSERVABILITY is set.
 */
export function wranglerDevEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, WRANGLER_SEND_METRICS: "false", X_LOCAL_OBSERVABILITY: base.X_LOCAL_OBSERVABILITY ?? "false" };
}
