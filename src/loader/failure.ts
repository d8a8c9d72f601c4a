/**
 * What a request gets when a project's server code fails it: 503 when the
 * runtime stopped the code for exceeding a resource limit (CPU time,
 * memory), 500 for anything else it threw. Short plain text, so that the
 * answer reveals nothing about the code. Pure.
 */
export interface ServerFailure {
  status: 500 | 503;
  body: string;
}

const RESOURCE_LIMIT = /\bexceeded\b.*\b(cpu|time|memory)\b|\b(cpu|memory)\b.*\blimit\b/i;

export function serverFailure(message: string): ServerFailure {
  return RESOURCE_LIMIT.test(message)
    ? { status: 503, body: "Service Unavailable: the server code ran out of resources\n" }
    : { status: 500, body: "Internal Server Error: the server code failed\n" };
}
