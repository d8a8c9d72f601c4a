/**
 * ProjectManifest: one Durable Object per project, holding its manifest in
 * SQLite. It is the single writer of the project's versions, blobs and
 * pointers, and the manifest cache the serving Worker asks when it meets a
 * version or a path it has not seen (see src/serve/resolver.ts). It stores
 * and looks up; the serving Worker decides.
 *
 * Expected failures are returned as `Outcome` values; see errors.ts.
 */
import { DurableObject } from "cloudflare:workers";
import { BlobStore } from "../blob/r2-store.ts";
import { pointerLeaseMs, REGISTRY_NAME, waitOutLeases, type Env } from "../env.ts";
import { longestTrustMs, TrustHorizon } from "../shared/lease.ts";
import { fail, succeed, type Outcome } from "../outcome.ts";
import type { ServingConfig } from "../rules/config.ts";
import { checkRetention } from "../shared/settings.ts";
import { COLLECT_UNLISTED_AFTER_MS, DEFAULT_RETENTION, type TokenScope } from "../shared/limits.ts";
import { activate, deleteAlias, history, rollback, setAlias } from "./pointers.ts";
import { BlobLedger } from "./blob-ledger.ts";
import { Db } from "../storage/db.ts";
import { addFiles, finalize, nextExpiry, startDeploy } from "./deploys.ts";
import { lookup, unavailable } from "./lookup.ts";
import { dropSnapshots, writeSnapshot } from "./snapshots.ts";
import { applyMigrations, isInitialized } from "./migrations.ts";
import { MultipartUploads } from "./multipart.ts";
import { checkStoredQuota, getProject, insertProject, setQuotas, projectInfo, type ProjectRow } from "./project.ts";
import { deleteVersion, pruneVersions, setPinned } from "./retention.ts";
import { addToken, listTokens, revokeToken, tokenOf } from "./tokens.ts";
import { checkAuthority, incarnationOf, newIncarnation, type Actor, type Need } from "./authority.ts";
import type {
  ActivationResult,
  Authority,
  AliasResult,
  HistoryEntry,
  PurgeProgress,
  FileEntry,
  FinalizeResult,
  GcResult,
  LookupAnswer,
  LookupQuery,
  ManifestRpc,
  PageResult,
  ProjectInfo,
  Quotas,
  ServerRef,
  StartedDeploy,
  TokenGrant,
  TokenInfo,
  UploadSession,
  VersionInfo,
} from "./contract.ts";
import { serverRefOf } from "./server-code.ts";
import { getVersion, listVersions } from "./versions.ts";

/** Blobs left by pruning are collected this long after the prune. */
const COLLECT_AFTER_PRUNE_MS = 10 * 60 * 1000;

/** Batches of R2 objects one purge() call deletes at most. */
const PURGE_ROUNDS = 20;

/** A deletion that stops part-way carries on from the alarm after this long. */
const PURGE_RETRY_MS = 30 * 1000;

export class ProjectManifest extends DurableObject<Env> implements ManifestRpc {
  readonly #db: Db;
  #ledger: BlobLedger | null = null;
  #multipart: MultipartUploads | null = null;
  /** A set-up from the registry under way (see open()). */
  #opening: Promise<void> | null = null;
  /** Versions whose snapshot is being written in the background. */
  readonly #snapshotting = new Set<string>();

  /** Until when serving isolates may trust what this object told them (see #settled). */
  readonly #trust: TrustHorizon;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#db = new Db(ctx.storage);
    this.#trust = new TrustHorizon(Date.now(), pointerLeaseMs(env));
    // A project not yet opened (see open()), or never created, keeps an
    // empty database, so that a request for it leaves nothing behind.
    void ctx.blockConcurrencyWhile(async () => {
      if (isInitialized(this.#db)) {
        applyMigrations(this.#db);
      }
    });
  }

  // ── Projects and tokens ────────────────────────────────────────────────

  /**
   * Opens the project for the API: its incarnation, or null if it does not
   * exist. Creating a project writes only its registry row; this Durable
   * Object sets itself up from that row (every migration and the project
   * row, one transaction) the first time the API opens it, so that a
   * project never used costs no database here.
   */
  async open(name: string): Promise<string | null> {
    if (!isInitialized(this.#db)) {
      this.#opening ??= this.#setUp(name).finally(() => {
        this.#opening = null;
      });
      await this.#opening;
    }
    return this.#incarnation();
  }

  async #setUp(name: string): Promise<void> {
    const creation = await this.env.REGISTRY.getByName(REGISTRY_NAME).creation(name);
    if (creation === null || isInitialized(this.#db)) {
      return;
    }
    this.#db.transaction(() => {
      applyMigrations(this.#db);
      insertProject(
        this.#db,
        name,
        creation.retention ?? DEFAULT_RETENTION,
        newIncarnation(Date.now()),
        creation.createdAt,
      );
    });
  }

  /**
   * Tells the registry this project's summary, so that the project list is
   * answered from the registry alone. Best effort: a summary that fails to
   * arrive is replaced by the next change's.
   */
  async publishSummary(): Promise<void> {
    const row = this.#row();
    if (!row || row.deleting === 1) {
      return;
    }
    const info = projectInfo(this.#db, row);
    const last = this.#db.first<{ at: number | null }>(
      "SELECT MAX(finalized_at) AS at FROM versions WHERE state = 'ready'",
    )?.at;
    await this.env.REGISTRY.getByName(REGISTRY_NAME)
      .setSummary(row.name, {
        activeVersion: info.activeVersion,
        aliases: info.aliases,
        storedBytes: info.storedBytes,
        lastDeployAt: last ? new Date(last).toISOString() : null,
        at: Date.now(),
      })
      .catch((error: unknown) => console.error(`the summary of ${row.name} did not reach the registry:`, error));
  }

  getProject(): Outcome<ProjectInfo> {
    return this.#withProject((row) => succeed(projectInfo(this.#db, row)));
  }

  /** Changes the retention setting and prunes at once to match it. */
  async setRetention(by: Authority, retention: number): Promise<Outcome<{ project: ProjectInfo; pruned: string[] }>> {
    const result = this.#as(by, "manage", (actor) => {
      const checked = checkRetention(retention);
      if (!checked.ok) {
        return checked;
      }
      this.#db.run("UPDATE project SET retention = ? WHERE id = 1", retention);
      const pruned = pruneVersions(this.#db, retention, actor);
      return succeed({ project: projectInfo(this.#db, this.#requireRow()), pruned });
    });
    if (result.ok) {
      await this.#afterPrune(result.value.pruned);
    }
    return this.#dropEnded(await this.#settled(result, (value) => value.pruned.length > 0), (value) => value.pruned);
  }

  /** Sets some of the project's quotas (see Quotas). */
  setQuotas(by: Authority, quotas: Partial<Quotas>): Outcome<ProjectInfo> {
    return this.#as(by, "admin", () => {
      const set = setQuotas(this.#db, quotas);
      return set.ok ? succeed(projectInfo(this.#db, this.#requireRow())) : set;
    });
  }

  addToken(by: Authority, hash: string, id: string, scope: TokenScope): Outcome<{ id: string; scope: TokenScope }> {
    return this.#as(by, "admin", () => {
      addToken(this.#db, hash, id, scope, Date.now());
      return succeed({ id, scope });
    });
  }

  tokenOf(hash: string): TokenGrant | null {
    const row = this.#row();
    const token = row === null || row.deleting === 1 ? null : tokenOf(this.#db, hash);
    return row && token ? { ...token, incarnation: incarnationOf(row) } : null;
  }

  listTokens(): Outcome<TokenInfo[]> {
    return this.#withProject(() => succeed(listTokens(this.#db)));
  }

  revokeToken(by: Authority, id: string): Outcome<{ id: string }> {
    return this.#as(by, "admin", () => revokeToken(this.#db, id));
  }

  // ── Deploys ─────────────────────────────────────────────────────────────

  async startDeploy(
    by: Authority,
    message: string,
    config: ServingConfig,
    server: ServerRef | null,
  ): Promise<Outcome<StartedDeploy>> {
    const started = this.#as(by, "deploy", (actor) =>
      startDeploy(this.#db, message, config, server, actor.name, Date.now()),
    );
    if (started.ok) {
      await this.#scheduleAlarm(nextExpiry(this.#db));
    }
    return started;
  }

  addFiles(by: Authority, version: string, entries: FileEntry[]): Outcome<PageResult> {
    return this.#as(by, "deploy", () => addFiles(this.#db, version, entries, Date.now()));
  }

  missingOf(hashes: string[]): Outcome<string[]> {
    return this.#withProject(() => succeed(hashes.filter((hash) => !this.#blobLedger().has(hash))));
  }

  async prepareUpload(by: Authority, hash: string, size: number): Promise<Outcome<{ present: boolean }>> {
    // A blob uploaded alone is claimed as a batch of one: one place checks the quota.
    const prepared = await this.prepareBatch(by, [{ hash, size }]);
    return prepared.ok ? succeed({ present: prepared.value.present.length > 0 }) : prepared;
  }

  async recordUpload(by: Authority, hash: string, size: number): Promise<Outcome<{ hash: string; size: number }>> {
    return this.#collectingLater(this.#as(by, "deploy", () => this.#blobLedger().recordUpload(hash, size, Date.now())));
  }

  async prepareBatch(by: Authority, blobs: { hash: string; size: number }[]): Promise<Outcome<{ present: string[] }>> {
    const ledger = this.#as(by, "deploy", () => succeed(this.#blobLedger()));
    return ledger.ok
      ? ledger.value.prepareBatch(blobs, Date.now(), (incoming) => checkStoredQuota(this.#db, incoming))
      : ledger;
  }

  async recordBatch(
    by: Authority,
    pack: { id: string; size: number },
    blobs: { hash: string; size: number; offset: number }[],
    leased: string[],
  ): Promise<Outcome<{ recorded: string[] }>> {
    return this.#collectingLater(
      this.#as(by, "deploy", () => succeed(this.#blobLedger().recordBatch(pack, blobs, leased, Date.now()))),
    );
  }

  releaseBatch(hashes: string[]): void {
    if (this.#row()) {
      this.#blobLedger().releaseBatch(hashes);
    }
  }

  releaseUpload(hash: string): void {
    if (this.#row()) {
      this.#blobLedger().releaseUpload(hash);
    }
  }

  // ── Multipart uploads ───────────────────────────────────────────────────

  async startUpload(
    by: Authority,
    hash: string,
    size: number,
    partSize: number,
  ): Promise<Outcome<{ present: true } | UploadSession>> {
    const uploads = this.#as(by, "deploy", () => succeed(this.#uploads()));
    if (!uploads.ok) {
      return uploads;
    }
    const started = await uploads.value.start(hash, size, partSize, Date.now());
    await this.#scheduleAlarm(uploads.value.nextExpiry());
    return started;
  }

  uploadSession(hash: string): Outcome<UploadSession> {
    return this.#withProject(() => this.#uploads().session(hash));
  }

  recordPart(
    by: Authority,
    hash: string,
    partNumber: number,
    etag: string,
    blockDigests: Uint8Array[],
  ): Outcome<{ partNumber: number }> {
    return this.#as(by, "deploy", () => this.#uploads().recordPart(hash, partNumber, etag, blockDigests, Date.now()));
  }

  async completeUpload(by: Authority, hash: string): Promise<Outcome<{ hash: string; size: number }>> {
    const uploads = this.#as(by, "deploy", () => succeed(this.#uploads()));
    return uploads.ok ? uploads.value.complete(hash, Date.now()) : uploads;
  }

  async abortUpload(by: Authority, hash: string): Promise<Outcome<{ hash: string }>> {
    const uploads = this.#as(by, "deploy", () => succeed(this.#uploads()));
    return uploads.ok ? uploads.value.abort(hash) : uploads;
  }

  /** The server code of a staged version, to check before it is finalized. */
  stagedServer(version: string): Outcome<ServerRef | null> {
    return this.#withProject(() => {
      const row = getVersion(this.#db, version);
      if (row?.state !== "staged") {
        return succeed(null);
      }
      return succeed(serverRefOf(this.#db, version));
    });
  }

  async finalize(
    by: Authority,
    version: string,
    options: { activate: boolean; alias?: string; force?: boolean },
  ): Promise<Outcome<FinalizeResult>> {
    const need = options.activate || options.alias !== undefined ? "activate" : "deploy";
    const result = this.#as(by, need, (actor) => finalize(this.#db, version, options, actor, Date.now()));
    if (result.ok) {
      // Written before the version is served anywhere: before this returns.
      await writeSnapshot(this.#db, this.#blobStore(), version);
      await this.#afterPrune(result.value.pruned);
    }
    // A project is registered without waiting for serving isolates' host
    // filters to learn of it (a filter asked before is trusted at most a
    // lease and its greatest grace); its first versions wait for them instead.
    const filtersKnow = (this.#row()?.created_at ?? 0) + longestTrustMs(pointerLeaseMs(this.env));
    if (result.ok && filtersKnow > Date.now()) {
      await scheduler.wait(filtersKnow - Date.now());
    }
    const settled = await this.#settled(
      result,
      (value) =>
        value.unchanged !== true &&
        ((value.active && value.previous !== value.version) || value.alias !== null || value.pruned.length > 0),
    );
    return this.#dropEnded(settled, (value) => value.pruned);
  }

  // ── Versions ────────────────────────────────────────────────────────────

  listVersions(): Outcome<VersionInfo[]> {
    return this.#withProject(() => succeed(listVersions(this.#db)));
  }

  activate(by: Authority, version: string): Promise<Outcome<ActivationResult>> {
    const result = this.#as(by, "activate", (actor) => activate(this.#db, version, actor.name, Date.now()));
    return this.#settled(result, (value) => value.active !== value.previous);
  }

  rollback(by: Authority, to: string | null): Promise<Outcome<ActivationResult>> {
    return this.#settled(this.#as(by, "activate", (actor) => rollback(this.#db, to, actor.name, Date.now())));
  }

  setAlias(by: Authority, name: string, version: string): Promise<Outcome<AliasResult>> {
    const result = this.#as(by, "activate", (actor) => setAlias(this.#db, name, version, actor.name, Date.now()));
    return this.#settled(result, (value) => value.version !== value.previous);
  }

  deleteAlias(by: Authority, name: string): Promise<Outcome<AliasResult>> {
    return this.#settled(this.#as(by, "activate", (actor) => deleteAlias(this.#db, name, actor.name, Date.now())));
  }

  history(limit: number): Outcome<HistoryEntry[]> {
    return this.#withProject(() => succeed(history(this.#db, limit)));
  }

  async deleteVersion(by: Authority, version: string): Promise<Outcome<{ version: string }>> {
    // Its preview URL must 404 everywhere once this returns.
    const settled = await this.#settled(this.#as(by, "manage", () => deleteVersion(this.#db, version)));
    return this.#dropEnded(settled, (value) => [value.version]);
  }

  setPinned(by: Authority, version: string, pinned: boolean): Outcome<{ version: string; pinned: boolean }> {
    return this.#as(by, "manage", () => setPinned(this.#db, version, pinned));
  }

  async collectGarbage(by: Authority): Promise<Outcome<GcResult>> {
    const ledger = this.#as(by, "manage", () => succeed(this.#blobLedger()));
    if (!ledger.ok) {
      return ledger;
    }
    const collected = await ledger.value.collect(Date.now());
    await this.publishSummary();
    return succeed(collected);
  }

  // ── Serving ─────────────────────────────────────────────────────────────

  /** Which version a target names, its configuration if asked, and which of the paths it has. */
  lookup(query: LookupQuery): LookupAnswer {
    const row = this.#row();
    if (!row || row.deleting === 1) {
      return unavailable("no-project", "project does not exist");
    }
    const now = Date.now();
    const found = lookup(this.#db, row, query, now);
    if (query.graceMs !== undefined) {
      this.#trust.grant(now, pointerLeaseMs(this.env), query.graceMs);
    }
    if (found.ok && found.value.snapshotBits === null && getVersion(this.#db, found.value.version)?.state === "ready") {
      this.#snapshotLater(found.value.version);
    }
    return found;
  }

  // ── Deletion ────────────────────────────────────────────────────────────

  /**
   * Deletes the project a step at a time, so that a call never runs long and
   * an interrupted deletion resumes where it stopped. The first step stops
   * every deploy and upload; uploads already streaming are waited for (their
   * blobs must be deleted too); then R2 objects go a batch at a time; last,
   * the database itself, and then the registry frees the name (whether the
   * API or the alarm took the last step). Call again until it says `purged`.
   */
  async purge(): Promise<Outcome<PurgeProgress>> {
    // A set-up under way finishes first: else it could set up, after this
    // found nothing to purge, a project whose name is already free.
    await this.#opening;
    const row = this.#row();
    if (!row) {
      return succeed({ state: "purged", deletedObjects: 0 });
    }
    this.#db.run("UPDATE project SET deleting = 1 WHERE id = 1");
    await this.#scheduleAlarm(Date.now() + PURGE_RETRY_MS);
    await this.#uploads().expire(Number.MAX_SAFE_INTEGER);
    const streaming = this.#blobLedger().activeLeases(Date.now());
    if (streaming > 0) {
      return succeed({ state: "waiting", uploads: streaming, deletedObjects: 0 });
    }
    const store = this.#blobStore();
    let deletedObjects = 0;
    for (let round = 0; round < PURGE_ROUNDS; round += 1) {
      const deleted = await store.purgePage();
      if (deleted === 0) {
        // Its analytics and logs go with it; if they cannot yet, the alarm tries again.
        await this.env.ANALYTICS.getByName(row.name).erase();
        await this.ctx.storage.deleteAlarm();
        await this.ctx.storage.deleteAll();
        this.#ledger = null;
        this.#multipart = null;
        // Only now, with nothing left here: a project created again under this
        // name lives in this same Durable Object. If the registry cannot be
        // reached, the next DELETE of the project finishes it.
        await this.env.REGISTRY.getByName(REGISTRY_NAME)
          .finishDelete(row.name)
          .catch((error: unknown) => console.error(`the registry did not free ${row.name}:`, error));
        return succeed({ state: "purged", deletedObjects });
      }
      deletedObjects += deleted;
    }
    return succeed({ state: "purging", deletedObjects });
  }

  // ── Housekeeping ────────────────────────────────────────────────────────

  /** Aborts idle uploads, expires lapsed deploys and collects unused blobs. */
  override async alarm(): Promise<void> {
    const row = this.#row();
    if (!row) {
      return;
    }
    if (row.deleting === 1) {
      await this.purge();
      return;
    }
    await this.#uploads().expire(Date.now());
    await this.#blobLedger().collect(Date.now());
    await this.#scheduleAlarm(nextExpiry(this.#db));
    await this.#scheduleAlarm(this.#uploads().nextExpiry());
  }

  async #afterPrune(pruned: readonly string[]): Promise<void> {
    if (pruned.length > 0) {
      await this.#scheduleAlarm(Date.now() + COLLECT_AFTER_PRUNE_MS);
    }
  }

  /**
   * Deletes the snapshots of the versions a change ended, once no isolate
   * may read them any more (after the change settled).
   */
  async #dropEnded<T>(outcome: Outcome<T>, ended: (value: T) => readonly string[]): Promise<Outcome<T>> {
    if (outcome.ok) {
      await dropSnapshots(this.#db, this.#blobStore(), ended(outcome.value));
    }
    return outcome;
  }

  #snapshotLater(version: string): void {
    if (this.#snapshotting.has(version)) {
      return;
    }
    this.#snapshotting.add(version);
    this.ctx.waitUntil(
      writeSnapshot(this.#db, this.#blobStore(), version)
        .catch((error: unknown) => console.error(`writing the snapshot of ${version} failed:`, error))
        .finally(() => this.#snapshotting.delete(version)),
    );
  }

  /** Sets the alarm to `time` unless it is already set to go off sooner. */
  async #scheduleAlarm(time: number | null): Promise<void> {
    if (time === null) {
      return;
    }
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > time) {
      await this.ctx.storage.setAlarm(time);
    }
  }

  #incarnation(): string | null {
    const row = this.#row();
    return row === null ? null : incarnationOf(row);
  }

  #row(): ProjectRow | null {
    return isInitialized(this.#db) ? getProject(this.#db) : null;
  }

  #requireRow(): ProjectRow {
    const row = this.#row();
    if (!row) {
      throw new Error("the project has not been created");
    }
    return row;
  }

  /**
   * Runs a change for the caller `by`, once its authority is checked in the
   * same synchronous step: nothing can revoke it in between.
   */
  #as<T>(by: Authority, need: Need, change: (actor: Actor) => Outcome<T>): Outcome<T> {
    return this.#withProject((row) => {
      const actor = checkAuthority(this.#db, row, by, need);
      return actor.ok ? change(actor.value) : actor;
    });
  }

  /**
   * Returns a committed change's outcome once every lease this object
   * granted on what it replaced has run out (when `changed` says it replaced
   * anything), and the registry has the project's new summary: the one
   * place pointer moves and deletions wait.
   */
  async #settled<T>(outcome: Outcome<T>, changed: (value: T) => boolean = () => true): Promise<Outcome<T>> {
    if (outcome.ok) {
      await Promise.all([changed(outcome.value) ? waitOutLeases(this.#trust) : undefined, this.publishSummary()]);
    }
    return outcome;
  }

  /**
   * After an upload is recorded: blobs no version or open deploy lists are
   * collected within COLLECT_UNLISTED_AFTER_MS, rather than kept until
   * someone runs gc, so that uploads cannot pile up outside any deploy.
   */
  async #collectingLater<T>(recorded: Outcome<T>): Promise<Outcome<T>> {
    if (recorded.ok) {
      await this.#scheduleAlarm(Date.now() + COLLECT_UNLISTED_AFTER_MS);
    }
    return recorded;
  }

  #withProject<T>(body: (row: ProjectRow) => Outcome<T>): Outcome<T> {
    const row = this.#row();
    if (!row) {
      return fail("project_not_found", "project does not exist");
    }
    if (row.deleting === 1) {
      return fail("conflict", `project ${row.name} is being deleted`);
    }
    return body(row);
  }

  #blobLedger(): BlobLedger {
    this.#ledger ??= new BlobLedger(this.#db, this.#blobStore());
    return this.#ledger;
  }

  #uploads(): MultipartUploads {
    this.#multipart ??= new MultipartUploads(this.#db, this.#blobStore(), this.#blobLedger());
    return this.#multipart;
  }

  #blobStore(): BlobStore {
    return new BlobStore(this.env.BLOBS, this.#requireRow().name);
  }
}
