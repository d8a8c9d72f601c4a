/**
 * The commands that manage versions, tokens and settings. Each returns the
 * value printed with --json and a human rendering of it.
 */
import type { ActivationResult, GcResult, ProjectInfo, Quotas, TokenInfo, VersionInfo } from "../manifest/contract.ts";
import type { ApiClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { formatBytes, formatTable } from "./format.ts";

export interface CommandOutput {
  json: unknown;
  text: string;
}

type Activation = ActivationResult & { project: string };

const projectPath = (project: string): string => `/api/projects/${project}`;

export async function versions(client: ApiClient, project: string): Promise<CommandOutput> {
  const { versions: list } = await client.request<{ versions: VersionInfo[] }>(
    "GET",
    `${projectPath(project)}/versions`,
  );
  const json = list.map(({ version, createdAt, files, bytes, message, active, immutableFiles, compressedBytes }) => ({
    version,
    createdAt,
    files,
    bytes,
    message,
    active,
    immutableFiles,
    compressedBytes,
  }));
  if (list.length === 0) {
    return { json, text: `${project} has no versions yet` };
  }
  const rows = [
    ["", "VERSION", "CREATED", "FILES", "SIZE", "MESSAGE", "ALIASES"],
    ...list.map((v) => [
      v.active ? "*" : v.pinned ? "p" : "",
      v.version,
      v.createdAt.replace("T", " ").slice(0, 19),
      String(v.files),
      formatBytes(v.bytes),
      v.message,
      v.aliases.join(", "),
    ]),
  ];
  return { json, text: `${formatTable(rows)}\n(* live, p pinned)` };
}

export async function activate(client: ApiClient, project: string, version: string): Promise<CommandOutput> {
  const result = await client.request<Activation>("POST", `${projectPath(project)}/activate`, { version });
  return activationOutput(result, "Activated");
}

export async function rollback(client: ApiClient, project: string, to: string | undefined): Promise<CommandOutput> {
  const result = await client.request<Activation>("POST", `${projectPath(project)}/rollback`, to ? { to } : {});
  return activationOutput(result, "Rolled back");
}

function activationOutput({ project, active, previous }: Activation, verb: string): CommandOutput {
  const was = previous && previous !== active ? ` (was ${previous})` : "";
  return { json: { project, active, previous }, text: `${verb} ${project}: ${active} is live${was}` };
}

export async function deleteVersion(client: ApiClient, project: string, version: string): Promise<CommandOutput> {
  await client.request("DELETE", `${projectPath(project)}/versions/${encodeURIComponent(version)}`);
  return { json: { project, deleted: version }, text: `Deleted ${project} version ${version}` };
}

export async function pin(
  client: ApiClient,
  project: string,
  version: string,
  pinned: boolean,
): Promise<CommandOutput> {
  await client.request(
    pinned ? "PUT" : "DELETE",
    `${projectPath(project)}/versions/${encodeURIComponent(version)}/pin`,
  );
  return {
    json: { project, version, pinned },
    text: `${pinned ? "Pinned" : "Unpinned"} ${project} version ${version}`,
  };
}

export async function gc(client: ApiClient, project: string): Promise<CommandOutput> {
  const result = await client.request<GcResult>("POST", `${projectPath(project)}/gc`);
  return {
    json: { project, ...result },
    text: `Deleted ${result.deleted} unused blob(s) from ${project}, freeing ${formatBytes(result.bytesFreed)}`,
  };
}

export async function token(
  client: ApiClient,
  project: string,
  action: string | undefined,
  id: string | undefined,
  scope: string | undefined,
): Promise<CommandOutput> {
  if (scope !== undefined && action !== "create") {
    throw new UsageError("--scope goes with `token create`");
  }
  switch (action) {
    case "create": {
      const created = await client.request<{ id: string; token: string; scope: string }>(
        "POST",
        `${projectPath(project)}/tokens`,
        scope === undefined ? {} : { scope },
      );
      return { json: { project, ...created }, text: created.token };
    }
    case "list": {
      const { tokens } = await client.request<{ tokens: TokenInfo[] }>("GET", `${projectPath(project)}/tokens`);
      return {
        json: tokens,
        text: tokens.length
          ? formatTable([["ID", "SCOPE", "CREATED"], ...tokens.map((t) => [t.id, t.scope, t.createdAt])])
          : "no tokens",
      };
    }
    case "revoke": {
      if (!id) {
        throw new UsageError("token revoke: give the id of the token to revoke");
      }
      await client.request("DELETE", `${projectPath(project)}/tokens/${encodeURIComponent(id)}`);
      return { json: { project, revoked: id }, text: `Revoked token ${id}` };
    }
    default:
      throw new UsageError("token: expected create, list or revoke");
  }
}

type ProjectAnswer = ProjectInfo & { url: string };

export interface SettingsChange {
  retention?: number;
  quotas?: Partial<Quotas>;
}

export async function settings(client: ApiClient, project: string, change: SettingsChange): Promise<CommandOutput> {
  const info =
    change.retention === undefined && change.quotas === undefined
      ? await client.request<ProjectAnswer>("GET", projectPath(project))
      : await client.request<ProjectAnswer>("PATCH", projectPath(project), change);
  const text = formatTable([
    ["project", info.name],
    ["url", info.url],
    ["live version", info.activeVersion ?? "(none)"],
    ["versions kept", String(info.retention)],
    ["open deploys, at most", String(info.quotas.openDeploys)],
    ["open multipart uploads, at most", String(info.quotas.openUploads)],
    ["bytes they may declare", formatBytes(info.quotas.uploadBytes)],
    ["bytes of blobs kept, at most", formatBytes(info.quotas.storedBytes)],
    ["created", info.createdAt],
  ]);
  return { json: info, text };
}

export async function createProject(
  client: ApiClient,
  project: string,
  retain: number | undefined,
): Promise<CommandOutput> {
  const info = await client.request<ProjectAnswer>(
    "PUT",
    projectPath(project),
    retain === undefined ? {} : { retention: retain },
  );
  return { json: info, text: `Project ${info.name} is ready at ${info.url}` };
}
