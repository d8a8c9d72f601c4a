/**
 * The control-plane API as the CLI sees it: JSON requests with bearer auth,
 * retries for transient failures, and streamed blob uploads.
 */
import { createReadStream } from "node:fs";
import http from "node:http";
import https from "node:https";
import { CliError } from "./errors.ts";
import { parseEvents, type ServerEvent } from "./events.ts";

/** Transient failures are retried this many times in all. */
const MAX_ATTEMPTS = 4;
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/** A failure the API reported, with its status and error code. */
export class ApiError extends CliError {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown>) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface ClientOptions {
  url: string;
  token: string | undefined;
}

export class ApiClient {
  readonly base: URL;
  readonly #token: string | undefined;

  constructor({ url, token }: ClientOptions) {
    try {
      this.base = new URL(url);
    } catch {
      throw new CliError(`--url: "${url}" is not a URL`);
    }
    this.#token = token;
  }

  /**
   * Sends a JSON request and returns the JSON answer. `retry` says whether
   * the request is safe to send again after a transient failure.
   */
  async request<T>(method: string, path: string, body?: unknown, { retry = true } = {}): Promise<T> {
    const url = new URL(path, this.base);
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      try {
        const raw = body instanceof Uint8Array;
        response = await fetch(url, {
          method,
          headers: {
            ...this.#auth(),
            ...(body === undefined ? {} : { "content-type": raw ? "application/octet-stream" : "application/json" }),
          },
          // Node's fetch sends any Uint8Array; the DOM's types (in the tests) want one backed by an ArrayBuffer.
          body: body === undefined ? undefined : raw ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
        });
      } catch (error) {
        if (retry && attempt < MAX_ATTEMPTS) {
          await backoff(attempt);
          continue;
        }
        throw this.#unreachable(error);
      }
      if (retry && RETRY_STATUSES.has(response.status) && attempt < MAX_ATTEMPTS) {
        await response.body?.cancel();
        await backoff(attempt);
        continue;
      }
      return (await readAnswer(response)) as T;
    }
  }

  /**
   * Reads a server-sent event stream from `path` until it ends or `signal`
   * aborts, handing each event to `onEvent`.
   */
  async events(
    path: string,
    onEvent: (event: ServerEvent) => void,
    { signal, lastEventId }: { signal?: AbortSignal; lastEventId?: string | null } = {},
  ): Promise<void> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.base), {
        headers: {
          ...this.#auth(),
          accept: "text/event-stream",
          ...(lastEventId ? { "last-event-id": lastEventId } : {}),
        },
        signal,
      });
    } catch (error) {
      if (signal?.aborted) {
        return;
      }
      throw this.#unreachable(error);
    }
    if (!response.ok || !response.body) {
      await readAnswer(response);
      return;
    }
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      const reader = response.body.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const chunk = read.value;
        const { events, rest } = parseEvents(buffered + decoder.decode(chunk, { stream: true }));
        buffered = rest;
        events.forEach(onEvent);
      }
    } catch (error) {
      if (!signal?.aborted) {
        throw this.#unreachable(error);
      }
    }
  }

  /** PUTs bytes held in memory to `path` (a small blob); retried after a transient failure. */
  async putBytes(path: string, bytes: Uint8Array): Promise<unknown> {
    return this.request("PUT", path, bytes);
  }

  /**
   * Streams `size` bytes of a file, from `start`, to PUT `path`. `onBytes`
   * is told of every chunk sent (and of a negative count when a retry
   * starts over). Retried after a transient failure.
   */
  async putFile(
    path: string,
    file: { path: string; start?: number; size: number; headers?: Record<string, string> },
    onBytes: (bytes: number) => void,
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt += 1) {
      let sent = 0;
      try {
        const { status, text } = await this.#put(new URL(path, this.base), file, (bytes) => {
          sent += bytes;
          onBytes(bytes);
        });
        if (RETRY_STATUSES.has(status) && attempt < MAX_ATTEMPTS) {
          onBytes(-sent);
          await backoff(attempt);
          continue;
        }
        return parseAnswer(status, text);
      } catch (error) {
        if (error instanceof ApiError) {
          throw error;
        }
        onBytes(-sent);
        if (attempt < MAX_ATTEMPTS) {
          await backoff(attempt);
          continue;
        }
        throw this.#unreachable(error);
      }
    }
  }

  #put(
    url: URL,
    file: { path: string; start?: number; size: number; headers?: Record<string, string> },
    onBytes: (bytes: number) => void,
  ): Promise<{ status: number; text: string }> {
    const transport = url.protocol === "https:" ? https : http;
    const start = file.start ?? 0;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, {
        method: "PUT",
        headers: {
          ...this.#auth(),
          ...file.headers,
          "content-type": "application/octet-stream",
          "content-length": String(file.size),
        },
      });
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        response.on("error", reject);
      });
      request.on("error", reject);
      if (file.size === 0) {
        request.end();
        return;
      }
      const source = createReadStream(file.path, { start, end: start + file.size - 1, highWaterMark: 1024 * 1024 });
      source.on("data", (chunk) => onBytes(chunk.length));
      source.on("error", (error) => request.destroy(error));
      source.pipe(request);
    });
  }

  #auth(): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {};
  }

  #unreachable(error: unknown): CliError {
    const cause =
      error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    return new CliError(
      `cannot reach ${this.base.origin} (${cause}); is the platform running? (npm start, or pass --url)`,
    );
  }
}

async function readAnswer(response: Response): Promise<unknown> {
  return parseAnswer(response.status, await response.text());
}

function parseAnswer(status: number, text: string): unknown {
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (status >= 200 && status < 300) {
    return body;
  }
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  if (status === 401) {
    // Said in the CLI's terms, with where a token comes from.
    const told = error?.message?.startsWith("missing bearer token") ? "no token was given" : "the token was refused";
    throw new ApiError(
      401,
      error?.code ?? "unauthorized",
      `${told}: set R2_ASSETS_TOKEN or pass --token (a project's deploy token, or the platform's admin token: locally, ADMIN_TOKEN in .dev.vars, which npm start prints)`,
      {},
    );
  }
  if (error?.message) {
    const { code = "error", message, ...details } = error;
    throw new ApiError(status, code, message, details);
  }
  throw new ApiError(status, "http_error", `the API answered ${status}: ${text.slice(0, 200)}`, {});
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(4000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
