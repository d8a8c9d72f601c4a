/**
 * Reading and checking JSON request bodies. Every check names the field it
 * rejects, so that a client can tell exactly what to fix.
 */
import { AppError } from "../errors.ts";
import { type Outcome } from "../outcome.ts";
import { declaredLength } from "./intake.ts";

/**
 * Reads a JSON body of at most `maxBytes`; an empty body reads as `{}`. The
 * Content-Type is not checked, so that `curl -d` works as expected.
 */
export async function readJson(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = declaredLength(request) ?? 0;
  if (declared > maxBytes) {
    throw new AppError("payload_too_large", `body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  const text = await readText(request, maxBytes);
  if (text.trim() === "") {
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError("invalid_body", `body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(value)) {
    throw new AppError("invalid_body", "body must be a JSON object");
  }
  return value;
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) {
    return "";
  }
  // A body that is not UTF-8 is refused, not read with replacement characters.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let text = "";
  let size = 0;
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new AppError("invalid_body", "body is not valid UTF-8");
    }
  };
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new AppError("payload_too_large", `body is over the limit of ${maxBytes} bytes`);
    }
    text += decode(chunk);
  }
  return text + decode();
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A field that must be absent or a string of at most `maxLength` characters. */
export function optionalString(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "string") {
    throw badField(field, "must be a string");
  }
  if (value.length > maxLength) {
    throw badField(field, `must be at most ${maxLength} characters`);
  }
  return value;
}

/** A field that must be absent or a boolean. */
export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "boolean") {
    throw badField(field, "must be true or false");
  }
  return value;
}

/** A field that must be absent or a whole number. */
export function optionalInteger(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw badField(field, "must be a whole number");
  }
  return value;
}

/**
 * A whole-number query parameter from `min` to `max`, `fallback` when it
 * is absent; anything else is a 400 naming it.
 */
export function queryInteger(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const text = query.get(name);
  if (text === null) {
    return fallback;
  }
  const value = Number(text);
  if (!/^\d{1,16}$/.test(text) || value < min || value > max) {
    throw badField(name, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** A 400 naming the field at fault. */
export function badField(field: string, problem: string): AppError {
  return new AppError("bad_request", `${field}: ${problem}`, { field });
}

/**
 * The value of a check's outcome, or its failure thrown with the field it
 * names (and its message) prefixed by `prefix`: `config.` + `html_handling`.
 */
export function unwrapField<T>(outcome: Outcome<T>, prefix = ""): T {
  if (outcome.ok) {
    return outcome.value;
  }
  const { code, message, details } = outcome.failure;
  const field = typeof details?.field === "string" ? `${prefix}${details.field}` : undefined;
  if (field === undefined) {
    throw new AppError(code, message, details);
  }
  throw new AppError(code, `${field}: ${message}`, { ...details, field });
}
