/**
 * The RPC contract of the ProjectRegistry Durable Object: one for the whole
 * platform, knowing every project and the custom domains mapped to them.
 * Expected failures are `Outcome` values (see src/errors.ts).
 */
import type { Outcome } from "../outcome.ts";

export interface DomainInfo {
  hostname: string;
  project: string;
  /** The alias the domain serves, or null for the live version. */
  alias: string | null;
  createdAt: string;
}

/** What the project's Durable Object tells the registry about it whenever it changes. */
export interface ProjectSummary {
  activeVersion: string | null;
  /** Alias name → the version it names. */
  aliases: Record<string, string>;
  storedBytes: number;
  /** When a version was last finalized (ISO 8601), if ever. */
  lastDeployAt: string | null;
  /** When the summary was taken, ms since the epoch: an older one never replaces a newer. */
  at: number;
}

export interface RegisteredProject extends Omit<ProjectSummary, "at"> {
  name: string;
  createdAt: string;
  state: "active" | "deleting";
  domains: DomainInfo[];
}

/** What a project was created with: its Durable Object is set up from it on first use. */
export interface ProjectCreation {
  /** ms since the epoch. */
  createdAt: number;
  /** null: the platform's default. */
  retention: number | null;
}

/** A page of the project list, in name order; `cursor` asks for the next, null after the last. */
export interface ProjectPage {
  projects: RegisteredProject[];
  cursor: string | null;
}

/**
 * Every host the platform serves, as a Bloom filter (see
 * src/shared/bloom.ts): the names of active projects and the custom
 * domains mapped to them. Every isolate holds one, so that a host naming
 * nothing is answered without a call.
 */
export interface HostFilter {
  /** Changes with every write to the registry. */
  stamp: number;
  bits: Uint8Array;
  hashes: number;
}

/** The registry's answer to an isolate holding the filter at some stamp. */
export type HostsAnswer = ({ kind: "filter" } & HostFilter) | { kind: "unchanged"; stamp: number };

/** What a custom domain serves. */
export interface DomainTarget {
  project: string;
  alias: string | null;
}

export interface RegistryRpc {
  /**
   * Registers a project; registering one again changes nothing. This row
   * is all that creating a project writes: its Durable Object sets itself
   * up from `creation()` on first use (ProjectManifest#open). It does not
   * wait for serving isolates to learn of it: a project serves nothing
   * until its first version is finalized, which waits (see
   * ProjectManifest#finalize).
   */
  register(name: string, retention?: number | null): Outcome<{ created: boolean; createdAt: number }>;
  /** What an active project was created with; null for one that does not exist or is being deleted. */
  creation(name: string): ProjectCreation | null;
  /** The host filter, or that it is still at `stamp`; the answer is leased with `graceMs` (see src/shared/lease.ts). */
  hosts(stamp: number | null, graceMs: number): HostsAnswer;
  /** What a custom domain serves, or null; leased with `graceMs`. */
  domain(hostname: string, graceMs: number): DomainTarget | null;
  state(name: string): "active" | "deleting" | null;
  /** Projects whose names follow `cursor` (and start with `prefix`), in name order, at most `limit`. */
  listProjects(query: { limit: number; cursor: string | null; prefix: string }): ProjectPage;
  /** Records a project's summary (from its own Durable Object). */
  setSummary(name: string, summary: ProjectSummary): void;
  /** Marks a project as being deleted: it is no longer served, and no one can deploy to it. */
  beginDelete(name: string): Promise<Outcome<{ state: "deleting" }>>;
  /** Frees the name of a project being deleted (its Durable Object has purged it); any other is left alone. */
  finishDelete(name: string): Promise<{ deleted: true }>;
  addDomain(hostname: string, project: string, alias: string | null): Promise<Outcome<DomainInfo>>;
  removeDomain(hostname: string, project: string): Promise<Outcome<{ hostname: string }>>;
  domainsOf(project: string): DomainInfo[];
}
