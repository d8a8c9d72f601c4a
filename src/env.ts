/**
 * The platform Worker's bindings (see wrangler.toml) and the props its
 * entrypoints are created with.
 */
import type { ProjectManifest } from "./manifest/project-manifest.ts";
import type { ProjectRegistry } from "./registry/project-registry.ts";
import type { ProjectAnalytics } from "./analytics/project-analytics.ts";
import { DEFAULT_POINTER_LEASE_MS } from "./shared/limits.ts";
import type { TrustHorizon } from "./shared/lease.ts";

export interface Env {
  /** Asset bodies: projects/<project>/blobs/<hash>. */
  BLOBS: R2Bucket;
  /** One manifest Durable Object per project, addressed by project name. */
  MANIFEST: DurableObjectNamespace<ProjectManifest>;
  /** The project registry: one Durable Object for the platform, named "registry". */
  REGISTRY: DurableObjectNamespace<ProjectRegistry>;
  /** One analytics Durable Object per project: request counts and server-code logs. */
  ANALYTICS: DurableObjectNamespace<ProjectAnalytics>;
  /** Loads each project's server code as a Dynamic Worker. */
  LOADER: WorkerLoader;
  /** Projects are served at <project>.<ROOT_DOMAIN>. */
  ROOT_DOMAIN: string;
  /** Bearer token with full control over every project (a secret). */
  ADMIN_TOKEN?: string;
  /** Largest file accepted, in bytes (default 100 GiB). */
  MAX_FILE_BYTES?: string;
  /** "development" adds internal error details to 500 responses. */
  ENVIRONMENT?: string;
  /** "off" records no request analytics and no server-code logs. */
  RECORD_ANALYTICS?: string;
  /** How long an isolate gathers a project's analytics before it sends them, in ms (default 5000). */
  ANALYTICS_FLUSH_MS?: string;
  /** How long serving isolates trust a pointer or version they learned before they ask again, in ms (default 1000). */
  POINTER_LEASE_MS?: string;
}

export type ManifestStub = DurableObjectStub<ProjectManifest>;

/** The name of the one ProjectRegistry Durable Object. */
export const REGISTRY_NAME = "registry";

/** The lease on pointers and versions (see src/shared/lease.ts). */
export function pointerLeaseMs(env: Pick<Env, "POINTER_LEASE_MS">): number {
  return millisecondsVar(env.POINTER_LEASE_MS, DEFAULT_POINTER_LEASE_MS);
}

/** A var holding a whole, non-negative number of milliseconds; `fallback` when unset or not one. */
export function millisecondsVar(value: string | undefined, fallback: number): number {
  const configured = Number(value);
  return value !== undefined && Number.isSafeInteger(configured) && configured >= 0 ? configured : fallback;
}

/**
 * Waits out every lease the Durable Object keeping `trust` granted on what
 * a change it committed replaced (see src/shared/lease.ts#TrustHorizon).
 * The Durable Object calls it before it answers, so that once the call
 * returns no isolate anywhere starts a request on what the change
 * replaced, and no route can forget to wait.
 */
export async function waitOutLeases(trust: TrustHorizon): Promise<void> {
  await scheduler.wait(trust.waitMs(Date.now()));
}

/** Props of an AssetBinding: the project it serves and, optionally, a pinned version. */
export interface AssetBindingProps {
  projectId: string;
  version?: string;
}
