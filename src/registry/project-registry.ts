/**
 * ProjectRegistry: one Durable Object for the whole platform (SQLite),
 * knowing every project and the custom domains mapped to them. Serving
 * isolates never ask it on a request's behalf: each holds a Bloom filter
 * of every host, renewed ahead of its lease and shared by the isolates of
 * a location (see view.ts), and custom domains are looked up one at a
 * time, leased the same way. Writes change a stamp that tells those
 * filters to refresh.
 */
import { DurableObject } from "cloudflare:workers";
import init from "../../migrations/registry/0001_init.sql";
import summaries from "../../migrations/registry/0002_summaries.sql";
import creation from "../../migrations/registry/0003_creation.sql";
import { pointerLeaseMs, waitOutLeases, type Env } from "../env.ts";
import { TrustHorizon } from "../shared/lease.ts";
import { fail, succeed, type Outcome } from "../outcome.ts";
import { Db } from "../storage/db.ts";
import { applyMigrations, type Migration } from "../storage/migrate.ts";
import { buildBloom } from "../shared/bloom.ts";
import type {
  DomainInfo,
  DomainTarget,
  HostFilter,
  HostsAnswer,
  ProjectCreation,
  ProjectPage,
  ProjectSummary,
  RegistryRpc,
} from "./contract.ts";

export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  { id: 1, name: "init", sql: init },
  { id: 2, name: "summaries", sql: summaries },
  { id: 3, name: "creation", sql: creation },
];

interface ProjectRow extends Record<string, SqlStorageValue> {
  name: string;
  created_at: number;
  state: "active" | "deleting";
  live_version: string | null;
  aliases: string;
  stored_bytes: number;
  last_deploy_at: number | null;
  retention: number | null;
}

interface DomainRow extends Record<string, SqlStorageValue> {
  hostname: string;
  project: string;
  alias: string | null;
  created_at: number;
}

export class ProjectRegistry extends DurableObject<Env> implements RegistryRpc {
  readonly #db: Db;
  /** The filter at the current stamp, built once per write. */
  #filter: HostFilter | null = null;

  /** Until when serving isolates may trust the host filters and domains this object told them of. */
  readonly #trust: TrustHorizon;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#db = new Db(ctx.storage);
    this.#trust = new TrustHorizon(Date.now(), pointerLeaseMs(env));
    void ctx.blockConcurrencyWhile(async () => {
      applyMigrations(this.#db, REGISTRY_MIGRATIONS);
    });
  }

  register(name: string, retention: number | null = null): Outcome<{ created: boolean; createdAt: number }> {
    const row = this.#project(name);
    if (row?.state === "deleting") {
      return fail("conflict", `project ${name} is being deleted; create it again once that is done`);
    }
    if (row) {
      return succeed({ created: false, createdAt: row.created_at });
    }
    const createdAt = Date.now();
    this.#db.run("INSERT INTO projects (name, created_at, retention) VALUES (?, ?, ?)", name, createdAt, retention);
    this.#bump();
    return succeed({ created: true, createdAt });
  }

  creation(name: string): ProjectCreation | null {
    const row = this.#project(name);
    return row?.state === "active" ? { createdAt: row.created_at, retention: row.retention } : null;
  }

  /** The host filter, unless `stamp` is current; leased with `graceMs` (see src/shared/lease.ts). */
  hosts(stamp: number | null, graceMs: number): HostsAnswer {
    this.#trust.grant(Date.now(), pointerLeaseMs(this.env), graceMs);
    const current = this.#stamp();
    if (stamp === current) {
      return { kind: "unchanged", stamp: current };
    }
    if (this.#filter?.stamp !== current) {
      const names = this.#db
        .all<{ name: string }>(
          `SELECT name FROM projects WHERE state = 'active'
           UNION ALL SELECT d.hostname FROM domains d JOIN projects p ON p.name = d.project WHERE p.state = 'active'`,
        )
        .map((row) => row.name);
      this.#filter = { stamp: current, ...buildBloom(names) };
    }
    return { kind: "filter", ...this.#filter };
  }

  /** What a custom domain serves, leased with `graceMs`. */
  domain(hostname: string, graceMs: number): DomainTarget | null {
    this.#trust.grant(Date.now(), pointerLeaseMs(this.env), graceMs);
    return this.#db.first<DomainTarget & Record<string, SqlStorageValue>>(
      `SELECT d.project, d.alias FROM domains d JOIN projects p ON p.name = d.project
       WHERE d.hostname = ? AND p.state = 'active'`,
      hostname,
    );
  }

  state(name: string): "active" | "deleting" | null {
    return this.#project(name)?.state ?? null;
  }

  listProjects({ limit, cursor, prefix }: { limit: number; cursor: string | null; prefix: string }): ProjectPage {
    // Keyset paging by name: a project created meanwhile is listed once, in
    // its place, and none is skipped or listed twice.
    const rows = this.#db.all<ProjectRow>(
      // Names are DNS labels: every one that starts with `prefix` sorts before `prefix` + "~".
      `SELECT * FROM projects WHERE name > ? AND name >= ? AND name < ? ORDER BY name LIMIT ?`,
      cursor ?? "",
      prefix,
      `${prefix}~`,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const domains = new Map<string, DomainInfo[]>();
    for (const row of page) {
      domains.set(row.name, this.domainsOf(row.name));
    }
    return {
      projects: page.map((row) => ({
        name: row.name,
        createdAt: new Date(row.created_at).toISOString(),
        state: row.state,
        activeVersion: row.live_version,
        aliases: JSON.parse(row.aliases) as Record<string, string>,
        storedBytes: row.stored_bytes,
        lastDeployAt: row.last_deploy_at === null ? null : new Date(row.last_deploy_at).toISOString(),
        domains: domains.get(row.name) ?? [],
      })),
      cursor: rows.length > limit ? (page.at(-1)?.name ?? null) : null,
    };
  }

  setSummary(name: string, summary: ProjectSummary): void {
    this.#db.run(
      `UPDATE projects SET live_version = ?, aliases = ?, stored_bytes = ?, last_deploy_at = ?, summary_at = ?
       WHERE name = ? AND summary_at <= ?`,
      summary.activeVersion,
      JSON.stringify(summary.aliases),
      summary.storedBytes,
      summary.lastDeployAt === null ? null : Date.parse(summary.lastDeployAt),
      summary.at,
      name,
      summary.at,
    );
  }

  async beginDelete(name: string): Promise<Outcome<{ state: "deleting" }>> {
    if (!this.#project(name)) {
      return fail("project_not_found", `project ${name} does not exist`);
    }
    this.#db.run("UPDATE projects SET state = 'deleting' WHERE name = ?", name);
    this.#bump();
    // Nothing anywhere serves it, or deploys to it, once this returns.
    await waitOutLeases(this.#trust);
    return succeed({ state: "deleting" });
  }

  /** Frees the name of a project being deleted; a project not being deleted is left alone. */
  async finishDelete(name: string): Promise<{ deleted: true }> {
    if (this.#project(name)?.state !== "deleting") {
      return { deleted: true };
    }
    this.#db.transaction(() => {
      this.#db.run("DELETE FROM domains WHERE project = ?", name);
      this.#db.run("DELETE FROM projects WHERE name = ?", name);
    });
    this.#bump();
    await waitOutLeases(this.#trust);
    return { deleted: true };
  }

  async addDomain(hostname: string, project: string, alias: string | null): Promise<Outcome<DomainInfo>> {
    if (this.#project(project)?.state !== "active") {
      return fail("project_not_found", `project ${project} does not exist`);
    }
    const taken = this.#db.first<DomainRow>("SELECT * FROM domains WHERE hostname = ?", hostname);
    if (taken && taken.project !== project) {
      return fail("conflict", `${hostname} already serves another project; remove it there first`, {
        field: "hostname",
      });
    }
    this.#db.run(
      `INSERT INTO domains (hostname, project, alias, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (hostname) DO UPDATE SET alias = excluded.alias`,
      hostname,
      project,
      alias,
      Date.now(),
    );
    this.#bump();
    await waitOutLeases(this.#trust);
    const row = this.#db.first<DomainRow>("SELECT * FROM domains WHERE hostname = ?", hostname);
    return row ? succeed(toDomainInfo(row)) : fail("internal", `${hostname} was not recorded`);
  }

  async removeDomain(hostname: string, project: string): Promise<Outcome<{ hostname: string }>> {
    if (this.#db.run("DELETE FROM domains WHERE hostname = ? AND project = ?", hostname, project) === 0) {
      return fail("not_found", `${hostname} is not a domain of project ${project}`, { field: "hostname" });
    }
    this.#bump();
    await waitOutLeases(this.#trust);
    return succeed({ hostname });
  }

  domainsOf(project: string): DomainInfo[] {
    return this.#db
      .all<DomainRow>("SELECT * FROM domains WHERE project = ? ORDER BY hostname", project)
      .map(toDomainInfo);
  }

  #project(name: string): ProjectRow | null {
    return this.#db.first<ProjectRow>("SELECT * FROM projects WHERE name = ?", name);
  }

  #stamp(): number {
    return this.#db.first<{ value: number }>("SELECT value FROM stamp WHERE id = 1")?.value ?? 0;
  }

  #bump(): void {
    this.#db.run("UPDATE stamp SET value = value + 1 WHERE id = 1");
  }
}

function toDomainInfo(row: DomainRow): DomainInfo {
  return {
    hostname: row.hostname,
    project: row.project,
    alias: row.alias,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
