/**
 * Server bundles as the platform keeps them: one JSON document
 * `{mainModule, modules}` (see src/shared/server-code.ts), stored as a
 * content-addressed blob, and turned into the Worker Loader's modules when
 * an isolate is created.
 */
import type { BlobStore } from "../blob/r2-store.ts";
import type { ServerRef } from "../manifest/contract.ts";
import { checkBundle, MAX_SERVER_BUNDLE_BYTES, type ServerBundle } from "../shared/server-code.ts";
import { fail, type Outcome } from "../outcome.ts";

/** Reads and checks a stored bundle; a failure says what is wrong with it. */
export async function readBundle(store: BlobStore, server: ServerRef): Promise<Outcome<ServerBundle>> {
  const hash = server.bundleHash;
  const place = server.bundle;
  const bytes = place ? await store.bytes({ hash, pack: place.pack, offset: place.offset }, place.size) : null;
  if (!bytes) {
    return fail("blobs_missing", `the server bundle ${hash} has not been uploaded`, { missing: [hash] });
  }
  if (bytes.byteLength > MAX_SERVER_BUNDLE_BYTES) {
    return fail("payload_too_large", `the server bundle is over ${MAX_SERVER_BUNDLE_BYTES} bytes`, {
      field: "server.bundle",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return fail("bad_request", "the server bundle is not UTF-8 JSON", { field: "server.bundle" });
  }
  return checkBundle(value);
}

/** The modules of a bundle, ready for the Worker Loader. */
export function loaderModules(bundle: ServerBundle): Record<string, string | WorkerLoaderModule> {
  const modules: Record<string, string | WorkerLoaderModule> = {};
  for (const [name, module] of Object.entries(bundle.modules)) {
    if (typeof module === "string") {
      modules[name] = module;
    } else {
      const { data, ...rest } = module;
      modules[name] = data === undefined ? rest : { ...rest, data: fromBase64(data).buffer as ArrayBuffer };
    }
  }
  return modules;
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}
