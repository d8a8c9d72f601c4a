/**
 * A thin typed layer over a Durable Object's SQLite storage. Every call is
 * synchronous: code that runs between two awaits sees and writes a
 * consistent database, which is what makes the manifest's transactions
 * atomic without explicit locks.
 */

import type { Outcome } from "../outcome.ts";

export type Row = Record<string, SqlStorageValue>;

export class Db {
  readonly #sql: SqlStorage;
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
  }

  /** All rows of a query. */
  all<T extends Row>(query: string, ...params: SqlStorageValue[]): T[] {
    return this.#sql.exec<T>(query, ...params).toArray();
  }

  /**
   * All rows of a query as arrays, in the order the query names its columns:
   * for many rows, cheaper than objects the runtime builds a property at a
   * time (a version's snapshot reads every one of its files).
   */
  rows<T extends SqlStorageValue[]>(query: string, ...params: SqlStorageValue[]): T[] {
    return Array.from(this.#sql.exec(query, ...params).raw<T>());
  }

  /** The first row of a query, or null. */
  first<T extends Row>(query: string, ...params: SqlStorageValue[]): T | null {
    const rows = this.#sql.exec<T>(query, ...params);
    const next = rows.next();
    return next.done ? null : next.value;
  }

  /** Runs a statement and returns how many rows it wrote. */
  run(query: string, ...params: SqlStorageValue[]): number {
    return this.#sql.exec(query, ...params).rowsWritten;
  }

  /** Runs `body` in one transaction: all of its writes land, or none do. */
  transaction<T>(body: () => T): T {
    return this.#storage.transactionSync(body);
  }

  /**
   * Runs `body` in one transaction that commits only if it succeeds: a
   * returned failure rolls back whatever `body` wrote before failing.
   */
  atomically<T>(body: () => Outcome<T>): Outcome<T> {
    try {
      return this.#storage.transactionSync(() => {
        const outcome = body();
        if (!outcome.ok) {
          throw new Rollback(outcome);
        }
        return outcome;
      });
    } catch (error) {
      if (error instanceof Rollback) {
        return error.outcome;
      }
      throw error;
    }
  }
}

class Rollback extends Error {
  readonly outcome: Outcome<never>;

  constructor(outcome: Outcome<never>) {
    super("rolled back");
    this.outcome = outcome;
  }
}
