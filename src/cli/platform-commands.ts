/**
 * The commands that run the platform: projects, custom domains, aliases and
 * the activation history. Each returns the value printed with --json and a
 * human rendering of it.
 */
import { createInterface } from "node:readline/promises";
import type { AliasResult, HistoryEntry } from "../manifest/contract.ts";
import type { DomainInfo, RegisteredProject } from "../registry/contract.ts";
import type { ApiClient } from "./client.ts";
import type { CommandOutput } from "./commands.ts";
import { CliError, UsageError } from "./errors.ts";
import { formatBytes, formatTable } from "./format.ts";

const projectPath = (project: string): string => `/api/projects/${project}`;

type ListedProject = RegisteredProject & { url: string };

/** Every project (or those whose names start with `prefix`), following the API's pages. */
export async function listProjects(client: ApiClient, prefix = ""): Promise<CommandOutput> {
  const projects: ListedProject[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "1000", ...(prefix ? { prefix } : {}), ...(cursor ? { cursor } : {}) });
    const page: { projects: ListedProject[]; cursor: string | null } = await client.request(
      "GET",
      `/api/projects?${query.toString()}`,
    );
    projects.push(...page.projects);
    cursor = page.cursor;
  } while (cursor !== null);
  if (projects.length === 0) {
    return { json: projects, text: "no projects yet" };
  }
  const rows = projects.map((p) => [
    p.name,
    p.state === "active" ? (p.activeVersion ?? "(none)") : p.state,
    Object.keys(p.aliases).join(", "),
    p.domains.map((domain) => domain.hostname).join(", "),
    formatBytes(p.storedBytes),
    p.url,
  ]);
  return { json: projects, text: formatTable([["PROJECT", "LIVE", "ALIASES", "DOMAINS", "STORED", "URL"], ...rows]) };
}

/**
 * Deletes a project and everything it stores. On a terminal it asks for the
 * project's name first; elsewhere `--yes` is required. Deletion goes a
 * batch at a time; progress is reported until it is done.
 */
export async function deleteProject(
  client: ApiClient,
  project: string,
  { yes, report }: { yes: boolean; report: (line: string) => void },
): Promise<CommandOutput> {
  if (!yes) {
    if (!process.stdin.isTTY) {
      throw new UsageError(`project delete removes ${project} and all its files; add --yes to confirm`);
    }
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(
      `This deletes ${project}, every version and every file. Type its name to confirm: `,
    );
    prompt.close();
    if (answer.trim() !== project) {
      throw new CliError(`not deleted: "${answer.trim()}" is not ${project}`);
    }
  }
  let deletedObjects = 0;
  for (;;) {
    const answer = await client.request<{ deleted: boolean; deletedObjects: number; state?: string; uploads?: number }>(
      "DELETE",
      projectPath(project),
    );
    deletedObjects += answer.deletedObjects;
    if (answer.deleted) {
      return {
        json: { project, deleted: true, deletedObjects },
        text: `Deleted ${project} (${deletedObjects} object(s) in R2)`,
      };
    }
    report(
      answer.state === "waiting"
        ? `${project}: waiting for ${answer.uploads ?? 0} upload(s) under way to finish`
        : `${project}: deleted ${deletedObjects} object(s) so far`,
    );
    await new Promise((resolve) => setTimeout(resolve, answer.state === "waiting" ? 2000 : 0));
  }
}

export async function domains(
  client: ApiClient,
  project: string,
  action: string | undefined,
  hostname: string | undefined,
  target: string | undefined,
): Promise<CommandOutput> {
  const path = (host: string): string => `${projectPath(project)}/domains/${encodeURIComponent(host)}`;
  switch (action) {
    case "list": {
      const { domains: list } = await client.request<{ domains: DomainInfo[] }>(
        "GET",
        `${projectPath(project)}/domains`,
      );
      const rows = list.map((domain) => [domain.hostname, domain.alias ?? "live", domain.createdAt]);
      return {
        json: list,
        text: list.length ? formatTable([["HOSTNAME", "SERVES", "ADDED"], ...rows]) : `${project} has no domains`,
      };
    }
    case "add": {
      const host = requireHostname(hostname, action);
      const added = await client.request<DomainInfo>("PUT", path(host), target === undefined ? {} : { alias: target });
      return { json: added, text: `${host} now serves ${project}${target ? ` (alias ${target})` : ""}` };
    }
    case "remove": {
      const host = requireHostname(hostname, action);
      await client.request("DELETE", path(host));
      return { json: { project, removed: host }, text: `${host} no longer serves ${project}` };
    }
    default:
      throw new UsageError("domains: expected add, list or remove");
  }
}

export async function alias(
  client: ApiClient,
  project: string,
  action: string | undefined,
  name: string,
  version: string | undefined,
): Promise<CommandOutput> {
  const path = `${projectPath(project)}/aliases/${encodeURIComponent(name)}`;
  if (action === "set") {
    if (version === undefined) {
      throw new UsageError("alias set: expected `r2-assets alias set <name> <version> --project <p>`");
    }
    const result = await client.request<AliasResult & { url: string }>("PUT", path, { version });
    return { json: result, text: `${name} now names ${version}: ${result.url}` };
  }
  if (action === "delete") {
    const result = await client.request<AliasResult>("DELETE", path);
    return { json: result, text: `Deleted alias ${name} (it named ${result.previous ?? "nothing"})` };
  }
  throw new UsageError("alias: expected `alias set <name> <version>` or `alias delete <name>`");
}

export async function history(client: ApiClient, project: string, limit: number | undefined): Promise<CommandOutput> {
  const query = limit === undefined ? "" : `?limit=${limit}`;
  const { history: entries } = await client.request<{ history: HistoryEntry[] }>(
    "GET",
    `${projectPath(project)}/history${query}`,
  );
  if (entries.length === 0) {
    return { json: entries, text: `${project} has no history yet` };
  }
  const rows = entries.map((entry) => [
    entry.at.replace("T", " ").slice(0, 19),
    entry.pointer,
    entry.kind,
    entry.from ?? "-",
    entry.to ?? "-",
    entry.actor ?? "?",
  ]);
  return { json: entries, text: formatTable([["WHEN", "POINTER", "WHAT", "FROM", "TO", "BY"], ...rows]) };
}

function requireHostname(hostname: string | undefined, action: string): string {
  if (hostname === undefined) {
    throw new UsageError(`domains ${action}: expected \`r2-assets domains ${action} <hostname> --project <p>\``);
  }
  return hostname;
}
