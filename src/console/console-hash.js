/**
 * The console's hashing worker: the content hash of each file a folder
 * deploy holds, the same as the CLI's (the SHA-256 of the concatenated
 * SHA-256 digests of its 4 MiB blocks), computed with Web Crypto off the
 * page's thread. Files of more than one block also get their block
 * digests, from which a multipart upload's part hashes are made.
 *
 * Messages in: {files: File[]}; out: {progress: bytes} and, at the end,
 * {hashes: [{hash, blockDigests}]} in the order of the files, or {error}.
 */

const BLOCK_SIZE = 4 * 1024 * 1024;

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function hashFile(file) {
  const digests = [];
  for (let offset = 0; offset < file.size; offset += BLOCK_SIZE) {
    const block = await file.slice(offset, offset + BLOCK_SIZE).arrayBuffer();
    digests.push(new Uint8Array(await crypto.subtle.digest("SHA-256", block)));
    self.postMessage({ progress: block.byteLength });
  }
  const joined = new Uint8Array(digests.length * 32);
  digests.forEach((digest, index) => joined.set(digest, index * 32));
  const hash = hex(await crypto.subtle.digest("SHA-256", joined));
  return { hash, blockDigests: digests.length > 1 ? digests.map(hex) : [] };
}

self.onmessage = async (event) => {
  try {
    const hashes = [];
    for (const file of event.data.files) {
      hashes.push(await hashFile(file));
    }
    self.postMessage({ hashes });
  } catch (error) {
    self.postMessage({ error: String(error?.message ?? error) });
  }
};
