/**
 * What this isolate's serving caches have done since it started: enough to
 * see the warm path work (`GET /api/stats`, and the benchmark).
 */
export interface ServingStats {
  /** Calls to projects' Durable Objects to serve requests. */
  manifestCalls: number;
  /** Of those, calls made only to renew a pointer's or version's lease (ahead of time, or once it ran out). */
  leaseRefreshes: number;
  /** Requests that waited for a lease to be renewed because it had run out (steady traffic renews ahead). */
  renewalWaits: number;
  /** Leases taken from what another isolate of this location learned (the Cache API), with no call. */
  locationHits: number;
  /** Routing answers found in the isolate's cache, and computed afresh. */
  answerHits: number;
  answerMisses: number;
  /** Small bodies served from the isolate's memory, from the Cache API, and read from R2. */
  bodyMemoryHits: number;
  bodyCacheHits: number;
  bodyReads: number;
  /** Packed small bodies found in a window of their pack this isolate holds, and windows read from R2. */
  packWindowHits: number;
  packWindowReads: number;
  /** Manifest snapshot pages found decoded in the isolate, in the Cache API, and read from R2. */
  pageHits: number;
  pageCacheHits: number;
  pageReads: number;
}

export const stats: ServingStats = {
  manifestCalls: 0,
  leaseRefreshes: 0,
  renewalWaits: 0,
  locationHits: 0,
  answerHits: 0,
  answerMisses: 0,
  bodyMemoryHits: 0,
  bodyCacheHits: 0,
  bodyReads: 0,
  packWindowHits: 0,
  packWindowReads: 0,
  pageHits: 0,
  pageCacheHits: 0,
  pageReads: 0,
};
