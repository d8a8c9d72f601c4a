/**
 * What serving and the control plane need of the registry, without asking
 * it on a request's behalf:
 * - a Bloom filter of every host (project names and custom domains), held
 *   by each isolate under a lease like a pointer's (src/shared/lease.ts),
 *   renewed at its end in the background and shared by a location's isolates
 *   through the Cache API: a host naming nothing is answered at once,
 *   without starting a Durable Object, at any tenant count;
 * - what a custom domain serves, looked up one hostname at a time and
 *   leased and shared the same way.
 * `<project>.<root>` hosts need nothing more: the project's own Durable
 * Object says whether it exists when its pointer is asked.
 */
import { pointerLeaseMs, REGISTRY_NAME, type Env } from "../env.ts";
import { mayContain, type BloomFilter } from "../shared/bloom.ts";
import { Flights } from "../shared/flights.ts";
import {
  answered,
  claimWindow,
  freshness,
  dueForRenewal,
  graceAsked,
  LeaseCache,
  renewedSince,
  worthAdopting,
  type LeaseTiming,
  type Leased,
} from "../shared/lease.ts";
import { LEASE_CACHE_ENTRIES } from "../shared/limits.ts";
import { claimOrWaitRenewal, readShared, readSharedBytes, writeShared, writeSharedBytes } from "../storage/location.ts";
import type { DomainTarget } from "./contract.ts";
import type { ProjectRegistry } from "./project-registry.ts";

/** Work a request may leave running after it answers (ExecutionContext.waitUntil). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Calls this isolate made to the registry, requests that waited for one,
 * and the size of the host filter it holds, for GET /api/stats.
 */
export const registryStats = { registryCalls: 0, registryWaits: 0, hostFilterBytes: 0 };

export function registryStub(env: Env): DurableObjectStub<ProjectRegistry> {
  return env.REGISTRY.getByName(REGISTRY_NAME);
}

interface HostsCopy {
  stamp: number;
  filter: BloomFilter;
}

const HOSTS_KEY = "registry:hosts";

let hosts: Leased<HostsCopy> | null = null;
const renewingHosts = new Flights<HostsCopy>();
const domains = new LeaseCache<DomainTarget | null>(LEASE_CACHE_ENTRIES);
const renewingDomains = new Flights<DomainTarget | null>();

/** The filter of every host the platform serves (no false negatives). */
export async function hostFilter(env: Env, waitUntil: WaitUntil): Promise<BloomFilter> {
  const held = hosts;
  const state = held ? freshness(held, Date.now(), pointerLeaseMs(env)) : "expired";
  if (held && state === "renew" && !renewingHosts.has("hosts")) {
    waitUntil(renewHosts(env, waitUntil).catch(() => undefined));
  }
  if (held && state !== "expired") {
    return held.value.filter;
  }
  registryStats.registryWaits += 1;
  return (await renewHosts(env, waitUntil)).filter;
}

/** False only if no project or custom domain is named `host` (a project name, or a domain's hostname). */
export async function mayServe(env: Env, host: string, waitUntil: WaitUntil): Promise<boolean> {
  return mayContain(await hostFilter(env, waitUntil), host);
}

/** What a custom domain serves, or null. */
export async function domainOf(env: Env, hostname: string, waitUntil: WaitUntil): Promise<DomainTarget | null> {
  const leaseMs = pointerLeaseMs(env);
  const now = Date.now();
  const held = domains.peek(hostname, now, leaseMs);
  if (held && freshness(held, now, leaseMs) === "renew" && !renewingDomains.has(hostname)) {
    waitUntil(renewDomain(env, hostname, waitUntil).catch(() => undefined));
  }
  if (held) {
    return held.value;
  }
  registryStats.registryWaits += 1;
  return renewDomain(env, hostname, waitUntil);
}

/**
 * Whether `name` is an active project, for the control plane: the filter
 * answers most questions (a "perhaps" is settled by the project's own
 * Durable Object); a project too new for this isolate's filter is asked of
 * the registry.
 */
export async function projectMayExist(env: Env, name: string, waitUntil: WaitUntil): Promise<boolean> {
  if (mayContain(await hostFilter(env, waitUntil), name)) {
    return true;
  }
  registryStats.registryCalls += 1;
  return (await registryStub(env).state(name)) === "active";
}

/** Whether a shared lease is worth taking over the one held (see worthAdopting). */
function usable<V>(shared: Leased<V> | null, held: LeaseTiming | undefined, leaseMs: number): shared is Leased<V> {
  return shared !== null && worthAdopting(shared, held, Date.now(), leaseMs);
}

function adoptHosts(entry: Leased<HostsCopy>): HostsCopy {
  if (!hosts || hosts.askedAt < entry.askedAt) {
    hosts = entry;
    registryStats.hostFilterBytes = entry.value.filter.bits.byteLength;
  }
  return entry.value;
}

function renewHosts(env: Env, waitUntil: WaitUntil): Promise<HostsCopy> {
  return renewingHosts.run("hosts", async () => {
    const leaseMs = pointerLeaseMs(env);
    // Armed ahead: asks when the lease runs, serving on its grace meanwhile.
    const armed = hosts && freshness(hosts, Date.now(), leaseMs) !== "expired" ? hosts : undefined;
    const dueAt = await dueForRenewal(armed, leaseMs);
    const held = hosts;
    if (held && renewedSince(armed, held)) {
      return held.value;
    }
    // 1. Another isolate of this location may have asked lately.
    const fromLocation = async (): Promise<HostsCopy | null> => {
      const shared = await readShared<number>(HOSTS_KEY);
      if (!usable(shared, held ?? undefined, leaseMs)) {
        return null;
      }
      const filter = shared.value === held?.value.stamp ? held.value.filter : await sharedFilter(shared.value);
      return filter ? adoptHosts({ ...shared, value: { stamp: shared.value, filter } }) : null;
    };
    const adopted = await fromLocation();
    if (adopted) {
      return adopted;
    }
    // 2. Ahead of time, one isolate of the location asks for all of them.
    if (
      held &&
      freshness(held, Date.now(), leaseMs) !== "expired" &&
      !(await claimOrWaitRenewal(HOSTS_KEY, claimWindow(held)))
    ) {
      return (await fromLocation()) ?? held.value;
    }
    // 3. Ask the registry, sending the stamp held so that an unchanged filter is not sent again.
    const graceMs = graceAsked(held ?? undefined, leaseMs, Date.now() - dueAt);
    const askedAt = Date.now();
    registryStats.registryCalls += 1;
    const answer = await registryStub(env).hosts(held?.value.stamp ?? null, graceMs);
    // "unchanged" answers a stamp, which only a held copy sends.
    const copy: HostsCopy | undefined =
      answer.kind === "filter"
        ? { stamp: answer.stamp, filter: { bits: answer.bits, hashes: answer.hashes } }
        : held?.value;
    if (!copy) {
      throw new Error("the registry said the host filter was unchanged, but none was held");
    }
    const lease = answered(copy, askedAt, graceMs, Date.now(), held ?? undefined, dueAt);
    waitUntil(writeShared(HOSTS_KEY, { ...lease, value: copy.stamp }, leaseMs + graceMs));
    if (answer.kind === "filter") {
      waitUntil(writeSharedBytes(`registry:filter:${copy.stamp}`, copy.filter.bits, String(copy.filter.hashes)));
    }
    return adoptHosts(lease);
  });
}

async function sharedFilter(stamp: number): Promise<BloomFilter | null> {
  const shared = await readSharedBytes(`registry:filter:${stamp}`);
  const hashes = Number(shared?.meta);
  return shared && Number.isInteger(hashes) && hashes > 0 ? { bits: shared.bytes, hashes } : null;
}

function renewDomain(env: Env, hostname: string, waitUntil: WaitUntil): Promise<DomainTarget | null> {
  return renewingDomains.run(hostname, async () => {
    const leaseMs = pointerLeaseMs(env);
    const key = `registry:domain:${hostname}`;
    const armed = domains.peek(hostname, Date.now(), leaseMs);
    const dueAt = await dueForRenewal(armed, leaseMs);
    const shared = await readShared<DomainTarget | null>(key);
    const held = domains.peek(hostname, Date.now(), leaseMs);
    if (held && renewedSince(armed, held)) {
      return held.value;
    }
    if (usable(shared, held, leaseMs)) {
      domains.set(hostname, shared);
      return shared.value;
    }
    const graceMs = graceAsked(held, leaseMs, Date.now() - dueAt);
    const askedAt = Date.now();
    registryStats.registryCalls += 1;
    const target = await registryStub(env).domain(hostname, graceMs);
    const lease = answered(target, askedAt, graceMs, Date.now(), held, dueAt);
    domains.set(hostname, lease);
    waitUntil(writeShared(key, lease, leaseMs + graceMs));
    return target;
  });
}
