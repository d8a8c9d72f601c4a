/**
 * This isolate's copy of the registry, leased like a pointer (see
 * src/serve/lease.ts): requests to hosts that name no project, and tokens
 * shaped like a deploy token of no project, are answered from it without
 * starting a Durable Object. Renewing it costs one small call per isolate
 * per lease, answered with "unchanged" unless the registry was written.
 */
import { pointerLeaseMs, type Env } from "../env.ts";
import type { RegistrySnapshot } from "./contract.ts";
import type { ProjectRegistry } from "./project-registry.ts";
import { Flights } from "../shared/flights.ts";

export interface RegistryView {
  hasProject(name: string): boolean;
  /** What a custom domain serves, if it is one. */
  domain(hostname: string): { project: string; alias: string | null } | undefined;
}

interface Copy {
  snapshot: RegistrySnapshot;
  projects: Set<string>;
  askedAt: number;
}

let copy: Copy | null = null;
/** The renewal under way, shared by the requests that need it. */
const renewing = new Flights<Copy>();

/** Calls this isolate made to the registry, for GET /api/stats. */
export const registryStats = { registryCalls: 0 };

export function registryStub(env: Env): DurableObjectStub<ProjectRegistry> {
  return env.REGISTRY.getByName("registry");
}

export async function registryView(env: Env): Promise<RegistryView> {
  const now = Date.now();
  const current = copy;
  const fresh =
    current && now >= current.askedAt && now - current.askedAt < pointerLeaseMs(env) ? current : await renew(env);
  return {
    hasProject: (name) => fresh.projects.has(name),
    domain: (hostname) => fresh.snapshot.domains[hostname],
  };
}

function renew(env: Env): Promise<Copy> {
  return renewing.run("registry", async () => {
    const askedAt = Date.now();
    registryStats.registryCalls += 1;
    const answer = await registryStub(env).snapshot(copy?.snapshot.stamp ?? null);
    const next: Copy =
      "unchanged" in answer && copy
        ? { ...copy, askedAt }
        : { snapshot: answer as RegistrySnapshot, projects: new Set((answer as RegistrySnapshot).projects), askedAt };
    copy = next;
    return next;
  });
}
