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

/** What a custom domain serves. */
export interface DomainTarget {
  project: string;
  alias: string | null;
}

export interface RegistryRpc {
  /**
   * Registers a project; registering one again changes nothing. It does
   * not wait for serving isolates to learn of it: a project serves nothing
   * until its first version is finalized, which waits (see
   * ProjectManifest#finalize).
   */
  register(name: string): Outcome<{ created: boolean }>;
  /** The host filter, or `unchanged` if it is still at `stamp`. */
  hosts(stamp: number | null): HostFilter | { stamp: number; unchanged: true };
  /** What a custom domain serves, or null. */
  domain(hostname: string): DomainTarget | null;
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
