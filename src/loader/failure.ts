/**
 * What a request gets when a project's server code fails it: 503 when the
 * runtime stopped the code for exceeding a resource limit (CPU time,
 * memory), 500 for anything else it threw. A few plain words, so that the
 * answer reveals nothing about the code. Pure.
 */
export interface ServerFailure {
  status: 500 | 503;
  detail: string;
}

const RESOURCE_LIMIT = /\bexceeded\b.*\b(cpu|time|memory)\b|\b(cpu|memory)\b.*\blimit\b/i;

export function serverFailure(message: string): ServerFailure {
  return RESOURCE_LIMIT.test(message)
    ? { status: 503, detail: "the server code ran out of resources" }
    : { status: 500, detail: "the server code failed" };
}
