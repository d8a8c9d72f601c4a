/**
 * The RPC contract of the ProjectRegistry Durable Object: one for the whole
 * platform, knowing every project and the custom domains mapped to them.
 * Expected failures are `Outcome` values (see src/errors.ts).
 */
import type { Outcome } from "../errors.ts";

export interface DomainInfo {
  hostname: string;
  project: string;
  /** The alias the domain serves, or null for the live version. */
  alias: string | null;
  createdAt: string;
}

export interface RegisteredProject {
  name: string;
  createdAt: string;
  state: "active" | "deleting";
  domains: DomainInfo[];
}

/** What serving needs of the registry, all at once: small, and cached by every isolate. */
export interface RegistrySnapshot {
  /** Changes with every write. */
  stamp: number;
  /** Active projects. */
  projects: string[];
  /** Hostname → what it serves. */
  domains: Record<string, { project: string; alias: string | null }>;
}

export interface RegistryRpc {
  /** Registers a project; registering one again changes nothing. */
  register(name: string): Promise<Outcome<{ created: boolean }>>;
  /** The whole registry, or `unchanged` if it is still at `stamp`. */
  snapshot(stamp: number | null): RegistrySnapshot | { stamp: number; unchanged: true };
  state(name: string): "active" | "deleting" | null;
  listProjects(): RegisteredProject[];
  /** Marks a project as being deleted: it is no longer served, and no one can deploy to it. */
  beginDelete(name: string): Promise<Outcome<{ state: "deleting" }>>;
  /** Forgets a deleted project and its domains; its name is free again. */
  finishDelete(name: string): Promise<Outcome<{ deleted: true }>>;
  addDomain(hostname: string, project: string, alias: string | null): Promise<Outcome<DomainInfo>>;
  removeDomain(hostname: string, project: string): Promise<Outcome<{ hostname: string }>>;
  domainsOf(project: string): DomainInfo[];
}
