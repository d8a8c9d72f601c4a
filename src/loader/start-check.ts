/**
 * Whether a bundle starts, as Cloudflare checks a Worker when it is
 * uploaded: its modules must parse and link, its top-level code must run,
 * and its default export must have a fetch handler. Used by the platform
 * before it finalizes a version, and by the CLI's local bundler before it
 * uploads anything. A failure says why, in the runtime's words.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { RESERVED_MODULE_PREFIX, type ServerBundle } from "../shared/server-code.ts";
import { loaderModules } from "./bundle.ts";

/** How long the code may take to start. */
const START_TIMEOUT_MS = 10_000;

/** How the checked isolate runs, apart from its code. */
export type StartSettings = Omit<WorkerLoaderWorkerCode, "mainModule" | "modules">;

export async function checkStarts(
  loader: WorkerLoader,
  id: string,
  bundle: ServerBundle,
  settings: StartSettings,
): Promise<Outcome<null>> {
  const probe = `${RESERVED_MODULE_PREFIX}_start.js`;
  const worker = loader.get(id, () => ({
    ...settings,
    mainModule: probe,
    modules: {
      ...loaderModules(bundle),
      [probe]: [
        `import * as server from ${JSON.stringify(`./${bundle.mainModule}`)};`,
        "export default { fetch() { return Response.json({ fetch: typeof server.default?.fetch === 'function' }); } };",
      ].join("\n"),
    },
  }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`it did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
  });
  try {
    const response = await Promise.race([worker.getEntrypoint().fetch("https://start.invalid/"), timeout]);
    const { fetch } = await response.json<{ fetch: boolean }>();
    return fetch ? succeed(null) : fail("bad_request", "its default export has no fetch handler", { field: "server" });
  } catch (error) {
    return fail(
      "bad_request",
      `the server code does not start: ${oneLine(error instanceof Error ? error.message : String(error))}`,
      {
        field: "server",
      },
    );
  } finally {
    if (timer !== undefined) {
      clearTimeout(timer);
    }
  }
}

/** The runtime's message on one line, and not too long to read. */
function oneLine(message: string): string {
  const line = message
    .split("\n")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .join(" ");
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
