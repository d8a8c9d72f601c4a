/**
 * Before a deploy with server code is finalized, its sources are bundled
 * and the bundle stored as a content-addressed blob attached to the version.
 * A bundling error fails the finalize, and the live version stays as it is.
 */
import { BlockDigester, contentHashOf } from "../blob/content-hash.ts";
import { AppError, unwrap } from "../errors.ts";
import { bundleServer } from "../loader/bundle.ts";
import type { ProjectScope } from "./context.ts";

export async function bundleIfNeeded(scope: ProjectScope, version: string): Promise<void> {
  const source = unwrap(await scope.manifest.unbundledServer(version));
  if (!source) {
    return;
  }
  const built = await bundleServer(source);
  if (!built.ok) {
    throw new AppError("bad_request", `server: the server code failed to bundle: ${built.message}`, { field: "server" });
  }
  const bytes = new TextEncoder().encode(JSON.stringify(built.bundle));
  const digester = new BlockDigester();
  await digester.write(bytes);
  const hash = await contentHashOf(await digester.finish());
  const { present } = unwrap(await scope.manifest.prepareUpload(hash));
  if (!present) {
    const put = await scope.blobs.putVerified(hash, bytes.length, new Blob([bytes]).stream());
    if (!put.stored) {
      await scope.manifest.releaseUpload(hash);
      throw new Error(`the server bundle did not verify: ${put.problem}`);
    }
  }
  unwrap(await scope.manifest.recordServerBundle(version, hash, bytes.length, built.bundle.mainModule));
}
