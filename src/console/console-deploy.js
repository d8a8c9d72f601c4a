/**
 * Deploying a folder from the console, through the same public API as the
 * CLI: hash every file in a worker (console-hash.js, the CLI's content
 * hash), open a deploy, list the files a page at a time, upload what the
 * platform says it lacks (small files many to a request, medium ones one
 * to a request, large ones in parts), and finalize. Nothing is kept in the
 * page that the platform does not keep too, so a deploy cut short (a
 * reload, a lost connection) resumes by deploying the same folder again:
 * blobs already stored are not asked for, and a large file's upload picks
 * up at the first part that did not arrive.
 */
import { contentTypeOf } from "./console-types.js";

// The platform's limits (src/shared/limits.ts).
const BLOCK_SIZE = 4 * 1024 * 1024;
const PAGE_FILES = 1000;
const BATCH_MAX_BLOB_BYTES = 1024 * 1024;
const BATCH_MAX_BLOBS = 1000;
const BATCH_MAX_BYTES = 16 * 1024 * 1024;
const SINGLE_UPLOAD_MAX_BYTES = 64 * 1024 * 1024;
const PART_SIZE = 16 * 1024 * 1024;
const MIN_PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Upload requests in flight at once. */
const IN_FLIGHT = 4;
/** A request that fails for want of a connection, or with 429/502/503/504, is tried this many times in all. */
const ATTEMPTS = 4;
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
/** Files at the root that configure the version instead of being served (as with the CLI). */
const RULE_FILES = new Set(["_redirects", "_headers"]);
const IGNORE_FILE = ".assetsignore";

/** The files of a folder picked with <input type=file webkitdirectory>, by their path inside it. */
export function filesFromInput(fileList) {
  return [...fileList].map((file) => ({
    path: file.webkitRelativePath.split("/").slice(1).join("/") || file.name,
    file,
  }));
}

/** The files of a folder dropped on the page (one folder, or several files and folders). */
export async function filesFromDrop(dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length === 0) {
    // Files with no entries to walk (put there by a script, say): each at the root.
    return [...dataTransfer.files].map((file) => ({ path: file.name, file }));
  }
  // A single folder dropped: its contents are the site, as with the CLI's <dir>.
  const roots = entries.length === 1 && entries[0].isDirectory ? await readDirectory(entries[0]) : entries;
  const files = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      files.push({
        path: `${prefix}${entry.name}`,
        file: await new Promise((resolve, reject) => entry.file(resolve, reject)),
      });
    } else if (entry.isDirectory) {
      for (const child of await readDirectory(entry)) {
        await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const entry of roots) {
    await walk(entry, "");
  }
  return files;
}

async function readDirectory(directory) {
  const reader = directory.createReader();
  const all = [];
  // readEntries answers in chunks (100 at a time in Chromium) until an empty one.
  for (;;) {
    const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (chunk.length === 0) {
      return all;
    }
    all.push(...chunk);
  }
}

/**
 * Deploys `files` ([{path, file}]) to the project at `base` (/api/projects/<p>).
 * `options`: message, activate, alias, htmlHandling, notFoundHandling.
 * `onProgress({phase, done, total, files, filesTotal})` is told as it goes.
 */
export async function deployFolder({ base, token, files, options, onProgress }) {
  const call = caller(token);
  const listed = [];
  const rules = {};
  for (const entry of files) {
    if (RULE_FILES.has(entry.path)) {
      rules[entry.path === "_redirects" ? "redirects" : "headers"] = await entry.file.text();
    } else if (entry.path !== IGNORE_FILE) {
      listed.push(entry);
    }
  }
  if (listed.length === 0) {
    throw new Error("the folder holds no files to serve");
  }
  const totalBytes = listed.reduce((sum, entry) => sum + entry.file.size, 0);

  onProgress({ phase: "hashing", done: 0, total: totalBytes });
  const hashes = await hashAll(
    listed.map((entry) => entry.file),
    (done) => onProgress({ phase: "hashing", done, total: totalBytes }),
  );

  const config = {
    ...(options.htmlHandling ? { html_handling: options.htmlHandling } : {}),
    ...(options.notFoundHandling ? { not_found_handling: options.notFoundHandling } : {}),
    ...rules,
  };
  const { version } = await call("POST", `${base}/deploys`, { message: options.message ?? "", config });
  const byHash = new Map();
  const missing = new Set();
  for (let start = 0; start < listed.length; start += PAGE_FILES) {
    const page = {};
    listed.slice(start, start + PAGE_FILES).forEach((entry, offset) => {
      const { hash, blockDigests } = hashes[start + offset];
      page[`/${entry.path}`] = { hash, size: entry.file.size, contentType: contentTypeOf(entry.path) };
      byHash.set(hash, { ...entry, hash, blockDigests });
    });
    const answer = await call("POST", `${base}/deploys/${version}/files`, { files: page });
    answer.missing.forEach((hash) => missing.add(hash));
  }

  const blobs = [...missing].map((hash) => byHash.get(hash));
  const uploadBytes = blobs.reduce((sum, blob) => sum + blob.file.size, 0);
  const progress = { done: 0, files: 0 };
  const advance = (bytes, filesDone = 0) => {
    progress.done += bytes;
    progress.files += filesDone;
    onProgress({
      phase: "uploading",
      done: progress.done,
      total: uploadBytes,
      files: progress.files,
      filesTotal: blobs.length,
    });
  };
  advance(0);
  const tasks = [];
  let batch = [];
  let batchBytes = 0;
  const flushBatch = () => {
    if (batch.length > 0) {
      const blobsOfBatch = batch;
      tasks.push(() => sendBatch(call, base, blobsOfBatch, advance));
      batch = [];
      batchBytes = 0;
    }
  };
  for (const blob of blobs) {
    if (blob.file.size <= BATCH_MAX_BLOB_BYTES) {
      if (batch.length >= BATCH_MAX_BLOBS || batchBytes + blob.file.size > BATCH_MAX_BYTES) {
        flushBatch();
      }
      batch.push(blob);
      batchBytes += blob.file.size;
    } else if (blob.file.size <= SINGLE_UPLOAD_MAX_BYTES) {
      tasks.push(async () => {
        await call("PUT", `${base}/blobs/${blob.hash}`, blob.file);
        advance(blob.file.size, 1);
      });
    } else {
      tasks.push(...(await partTasks(call, base, blob, advance)));
    }
  }
  flushBatch();
  await runPool(tasks, IN_FLIGHT);

  onProgress({ phase: "finalizing", done: uploadBytes, total: uploadBytes });
  return call("POST", `${base}/deploys/${version}/finalize`, {
    activate: options.alias ? false : options.activate !== false,
    ...(options.alias ? { alias: options.alias } : {}),
  });
}

/** Hashes the files in the hashing worker; `onBytes(total so far)` as it reads. */
function hashAll(files, onBytes) {
  return new Promise((resolve, reject) => {
    const worker = new Worker("/console-hash.js");
    let done = 0;
    worker.onmessage = ({ data }) => {
      if (data.progress !== undefined) {
        done += data.progress;
        onBytes(done);
      } else {
        worker.terminate();
        if (data.error) {
          reject(new Error(`hashing failed: ${data.error}`));
        } else {
          resolve(data.hashes);
        }
      }
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(`hashing failed: ${event.message}`));
    };
    worker.postMessage({ files });
  });
}

/** Small blobs in one request: a line of JSON naming each, then their bytes in that order. */
async function sendBatch(call, base, blobs, advance) {
  const header = `${JSON.stringify({ blobs: blobs.map((blob) => ({ hash: blob.hash, size: blob.file.size })) })}\n`;
  const answer = await call("POST", `${base}/blobs/batch`, new Blob([header, ...blobs.map((blob) => blob.file)]));
  const failed = answer.failed[0];
  if (failed) {
    const blob = blobs.find((candidate) => candidate.hash === failed.hash);
    throw new Error(`${blob?.path ?? failed.hash} changed after it was hashed: drop the folder again`);
  }
  advance(
    blobs.reduce((sum, blob) => sum + blob.file.size, 0),
    blobs.length,
  );
}

/**
 * A large file's upload in parts: opens the session (or learns which parts
 * arrived before), and returns a task per part still to send; the last part
 * to arrive completes the upload.
 */
async function partTasks(call, base, blob, advance) {
  const size = blob.file.size;
  const needed = Math.max(PART_SIZE, MIN_PART_SIZE, Math.ceil(size / MAX_PARTS));
  const partSize = Math.ceil(needed / BLOCK_SIZE) * BLOCK_SIZE;
  const session = await call("POST", `${base}/uploads`, { hash: blob.hash, size, partSize });
  if (session.present) {
    advance(size, 1);
    return [];
  }
  const arrived = new Set(session.uploadedParts);
  const lengthOf = (n) => Math.min(session.partSize, size - (n - 1) * session.partSize);
  advance([...arrived].reduce((sum, n) => sum + lengthOf(n), 0));
  const complete = async () => {
    await call("POST", `${base}/uploads/${blob.hash}/complete`);
    advance(0, 1);
  };
  let remaining = session.partCount - arrived.size;
  if (remaining === 0) {
    return [complete];
  }
  const tasks = [];
  for (let n = 1; n <= session.partCount; n += 1) {
    if (arrived.has(n)) {
      continue;
    }
    tasks.push(async () => {
      const start = (n - 1) * session.partSize;
      const part = blob.file.slice(start, start + lengthOf(n));
      await call("PUT", `${base}/uploads/${blob.hash}/parts/${n}`, part, {
        "x-part-hash": await partHash(blob.blockDigests, session.partSize, n),
      });
      advance(part.size);
      remaining -= 1;
      if (remaining === 0) {
        await complete();
      }
    });
  }
  return tasks;
}

/** A part's own content hash: the SHA-256 of its blocks' digests. */
async function partHash(blockDigests, partSize, n) {
  const perPart = partSize / BLOCK_SIZE;
  const digests = blockDigests.slice((n - 1) * perPart, n * perPart);
  const joined = new Uint8Array(digests.length * 32);
  digests.forEach((digest, index) => {
    for (let i = 0; i < 32; i += 1) {
      joined[index * 32 + i] = parseInt(digest.slice(i * 2, i * 2 + 2), 16);
    }
  });
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
  return Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Runs `tasks` (functions returning promises) `limit` at a time; the first failure stops the rest. */
async function runPool(tasks, limit) {
  let next = 0;
  let failure = null;
  const lane = async () => {
    while (next < tasks.length && !failure) {
      const task = tasks[next];
      next += 1;
      try {
        await task();
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  if (failure) {
    throw failure;
  }
}

/**
 * Calls the API with the token: JSON bodies as JSON, a Blob or File as its
 * bytes (the browser sends its Content-Length). Transient failures are
 * tried again; anything else is thrown with the API's message.
 */
function caller(token) {
  return async (method, path, body, headers = {}) => {
    const raw = body instanceof Blob;
    for (let attempt = 1; ; attempt += 1) {
      let response;
      try {
        response = await fetch(path, {
          method,
          headers: {
            authorization: `Bearer ${token()}`,
            ...(body === undefined ? {} : { "content-type": raw ? "application/octet-stream" : "application/json" }),
            ...headers,
          },
          body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
        });
      } catch (error) {
        if (attempt < ATTEMPTS) {
          await pause(attempt);
          continue;
        }
        throw new Error(`the connection failed (${error.message}): drop the folder again to resume`, {
          cause: error,
        });
      }
      if (RETRY_STATUSES.has(response.status) && attempt < ATTEMPTS) {
        await pause(attempt);
        continue;
      }
      const text = await response.text();
      const value = text ? JSON.parse(text) : null;
      if (!response.ok) {
        throw new Error(value?.error?.message ?? `the API answered ${response.status}`);
      }
      return value;
    }
  };
}

function pause(attempt) {
  return new Promise((resolve) => setTimeout(resolve, Math.min(4000, 250 * 2 ** attempt)));
}
