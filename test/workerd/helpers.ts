/**
 * Helpers for tests that drive the Worker in workerd through its real HTTP
 * entry point, with real local R2 and Durable Objects.
 */
import { createWorker } from "@cloudflare/worker-bundler";
import { exports } from "cloudflare:workers";
import { contentTypeFor } from "../../src/cli/content-type.ts";

export const ADMIN_TOKEN = "test-admin-token";
const BLOCK = 4 * 1024 * 1024;

/** A project name no other test uses. */
export function uniqueProject(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Calls the control-plane API. `body` is sent as JSON unless it is already a body type. */
export function api(
  method: string,
  path: string,
  { token = ADMIN_TOKEN, body, headers = {} }: CallOptions = {},
): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (token !== null) {
    (init.headers as Record<string, string>).authorization = `Bearer ${token}`;
  }
  if (body instanceof Uint8Array) {
    (init.headers as Record<string, string>)["content-length"] = String(body.byteLength);
    init.body = body;
  } else if (body !== undefined) {
    init.body = typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body);
  }
  return exports.default.fetch(new Request(`http://localhost${path}`, init));
}

/** Calls the API and returns its JSON, failing the test on an unexpected status. */
export async function apiJson<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions & { status?: number } = {},
): Promise<T> {
  const response = await api(method, path, options);
  const text = await response.text();
  const expected = options.status ?? (response.status >= 200 && response.status < 300 ? response.status : 200);
  if (response.status !== expected) {
    throw new Error(`${method} ${path}: expected ${expected}, got ${response.status}: ${text}`);
  }
  return JSON.parse(text) as T;
}

/** Requests `path` from a project's site. */
export function site(project: string, path: string, init: RequestInit = {}, version?: string): Promise<Response> {
  const host = version ? `${version}.${project}.localhost` : `${project}.localhost`;
  return exports.default.fetch(new Request(`http://${host}${path}`, init));
}

/** The content hash of `bytes`, computed independently of the code under test. */
export async function contentHash(bytes: Uint8Array): Promise<string> {
  const digests: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += BLOCK) {
    digests.push(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.subarray(offset, offset + BLOCK))));
  }
  const joined = new Uint8Array(digests.length * 32);
  digests.forEach((digest, i) => joined.set(digest, i * 32));
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", joined)));
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether two byte arrays are equal (without diffing megabytes on failure). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) {
    return false;
  }
  for (let i = 0; i < a.byteLength; i += 1) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

export function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content;
}

export async function createProject(name: string, retention?: number): Promise<void> {
  await apiJson("PUT", `/api/projects/${name}`, { body: retention === undefined ? {} : { retention } });
}

/** Server code as sources, bundled by `deploy` as the CLI bundles it; or a deploy's raw `server` field, `bundle` included. */
export type ServerOption =
  | {
      entry: string;
      files: Record<string, string>;
      vars?: Record<string, string>;
      compatibility_date?: string;
      compatibility_flags?: string[];
    }
  | { bundle: unknown; [field: string]: unknown };

export interface DeployOptions {
  activate?: boolean;
  message?: string;
  config?: Record<string, unknown>;
  server?: ServerOption;
  /** A bundle's JSON to upload as the server code's blob, when `server` names it raw. */
  bundleBytes?: Uint8Array;
  token?: string;
  /** Stop before finalizing. */
  finalize?: boolean;
  /** Make a version even if it repeats the one it replaces (default: yes, as the tests deploy alike sites often). */
  force?: boolean;
  /** Upload the missing blobs in one batch (POST …/blobs/batch) instead of one request each. */
  batch?: boolean;
  /** Precompressed variants of some files: path → coding → bytes. */
  encodings?: Record<string, Record<string, Uint8Array>>;
}

export interface Deployed {
  version: string;
  missing: string[];
  uploaded: number;
  active: boolean;
  unchanged?: true;
}

/** Deploys `files` (path → content) to `project` through the API, as the CLI does. */
export async function deploy(
  project: string,
  files: Record<string, string | Uint8Array>,
  options: DeployOptions = {},
): Promise<Deployed> {
  const token = options.token ?? ADMIN_TOKEN;
  const base = `/api/projects/${project}`;
  const server = options.server && (await serverField(options.server, options.bundleBytes));
  const { version, missing: named } = await apiJson<{ version: string; missing: string[] }>("POST", `${base}/deploys`, {
    token,
    body: { message: options.message ?? "", config: options.config ?? {}, server: server?.field },
  });
  if (server?.bytes && named.includes(server.hash)) {
    await apiJson("PUT", `${base}/blobs/${server.hash}`, { token, body: server.bytes, status: 201 });
  }
  const manifest: Record<
    string,
    { hash: string; size: number; contentType: string; encodings?: Record<string, { hash: string; size: number }> }
  > = {};
  const byHash = new Map<string, Uint8Array>();
  for (const [path, content] of Object.entries(files)) {
    const bytes = bytesOf(content);
    const hash = await contentHash(bytes);
    manifest[path] = { hash, size: bytes.length, contentType: contentTypeFor(path) };
    byHash.set(hash, bytes);
    for (const [coding, variant] of Object.entries(options.encodings?.[path] ?? {})) {
      const variantHash = await contentHash(variant);
      (manifest[path].encodings ??= {})[coding] = { hash: variantHash, size: variant.length };
      byHash.set(variantHash, variant);
    }
  }
  const { missing } = await apiJson<{ missing: string[] }>("POST", `${base}/deploys/${version}/files`, {
    token,
    body: { files: manifest },
  });
  if (options.batch && missing.length > 0) {
    const blobs = missing.map((hash) => ({ hash, bytes: byHash.get(hash) ?? new Uint8Array(0) }));
    await apiJson("POST", `${base}/blobs/batch`, { token, body: batchBody(blobs) });
  } else {
    for (const hash of missing) {
      await apiJson("PUT", `${base}/blobs/${hash}`, { token, body: byHash.get(hash), status: 201 });
    }
  }
  if (options.finalize === false) {
    return { version, missing, uploaded: missing.length, active: false };
  }
  const result = await apiJson<{ active: boolean; version: string; unchanged?: true }>(
    "POST",
    `${base}/deploys/${version}/finalize`,
    { token, body: { activate: options.activate ?? true, force: options.force ?? true } },
  );
  return {
    version: result.version,
    missing,
    uploaded: missing.length,
    active: result.active,
    ...(result.unchanged ? { unchanged: true } : {}),
  };
}

/**
 * A batch upload's body: one JSON line naming each blob's hash and size,
 * then their bytes in that order. `size` overrides a blob's declared size.
 */
export function batchBody(blobs: readonly { hash: string; bytes: Uint8Array; size?: number }[]): Uint8Array {
  const header = bytesOf(
    `${JSON.stringify({ blobs: blobs.map(({ hash, bytes, size }) => ({ hash, size: size ?? bytes.length })) })}\n`,
  );
  const out = new Uint8Array(header.length + blobs.reduce((sum, blob) => sum + blob.bytes.length, 0));
  out.set(header);
  let offset = header.length;
  for (const { bytes } of blobs) {
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}

/** Bundles server code with createWorker (the esbuild build the CLI runs too), or passes a raw `server` field through. */
async function serverField(
  server: ServerOption,
  bundleBytes?: Uint8Array,
): Promise<{ field: unknown; hash: string; bytes?: Uint8Array }> {
  if ("bundle" in server) {
    const hash = (server.bundle as { hash?: string } | null)?.hash ?? "";
    return { field: server, hash, bytes: bundleBytes };
  }
  const built = await createWorker({ files: server.files, entryPoint: server.entry, bundle: true });
  const bytes = bytesOf(JSON.stringify({ mainModule: built.mainModule, modules: built.modules }));
  const hash = await contentHash(bytes);
  const { vars = {}, compatibility_date, compatibility_flags } = server;
  return {
    field: { bundle: { hash, size: bytes.length }, vars, compatibility_date, compatibility_flags },
    hash,
    bytes,
  };
}

/** The upload of a hand-made bundle: its JSON bytes and the `server` field naming it. */
export async function rawBundle(
  bundle: unknown,
  rest: Record<string, unknown> = {},
): Promise<{ server: ServerOption; bundleBytes: Uint8Array }> {
  const bundleBytes = bytesOf(JSON.stringify(bundle));
  return {
    server: { bundle: { hash: await contentHash(bundleBytes), size: bundleBytes.length }, ...rest },
    bundleBytes,
  };
}
