/**
 * Which part of the platform a request is for, decided from its hostname
 * alone (pure):
 * - `ROOT_DOMAIN` (and the loopback addresses) is the control plane;
 * - `<project>.ROOT_DOMAIN` serves the project's live version;
 * - `<version>.<project>.ROOT_DOMAIN` serves that version (a preview);
 * - `<alias>.<project>.ROOT_DOMAIN` serves the version the alias names;
 * - any other hostname may be a custom domain (the registry says).
 */
import { isAliasName, isDomainName, isProjectName, isVersionId } from "./shared/names.ts";

export type HostRoute =
  | { kind: "control" }
  | { kind: "project"; project: string; version?: string; alias?: string }
  | { kind: "domain"; hostname: string }
  | { kind: "unknown" };

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "::1"]);

/**
 * The one form of a request's host that dispatch, `_headers` host rules and
 * cookies all use: lowercase, without a trailing dot or a port. Null when
 * the Host header (or the URL) carries userinfo (`alpha.<root>@beta.<root>`),
 * which no browser sends: the runtime keeps only what follows the `@` in
 * the URL, so the request would be served by a host it did not name.
 */
export function canonicalHostname(url: URL, hostHeader: string | null): string | null {
  if (url.username !== "" || url.password !== "" || hostHeader?.includes("@")) {
    return null;
  }
  return url.hostname.toLowerCase().replace(/\.$/, "");
}

export function routeHost(hostname: string, rootDomain: string): HostRoute {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  const root = rootDomain.toLowerCase();
  if (host === root || LOOPBACK.has(host)) {
    return { kind: "control" };
  }
  if (!host.endsWith(`.${root}`)) {
    return isDomainName(host) ? { kind: "domain", hostname: host } : { kind: "unknown" };
  }
  const [first = "", second, ...rest] = host.slice(0, -(root.length + 1)).split(".");
  if (second === undefined && isProjectName(first)) {
    return { kind: "project", project: first };
  }
  if (second === undefined || rest.length > 0 || !isProjectName(second)) {
    return { kind: "unknown" };
  }
  if (isVersionId(first)) {
    return { kind: "project", project: second, version: first };
  }
  return isAliasName(first) ? { kind: "project", project: second, alias: first } : { kind: "unknown" };
}
