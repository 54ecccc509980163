/**
 * The relational store behind one small interface: PostgreSQL (through a `pg` pool) in production,
 * an embedded PGlite database by default, so `npm start` needs no setup. Both speak the same SQL
 * with `$1` placeholders, and {@link openDatabase} brings either to the current schema.
 *
 * Both engines return `bigint` columns (epoch milliseconds, `count(*)`) as JS numbers, so callers
 * see the same row shapes whichever engine runs. Values beyond 2^53 would lose precision; the
 * schema keeps none.
 */
import { migrate } from './migrations.js';

export type Engine = 'postgres' | 'pglite';

/** Runs one SQL statement. Implemented by a database and by the handle of an open transaction. */
export interface Queryable {
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly engine: Engine;
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws (the error
   * is rethrown). Query through `tx` inside: the database itself is another connection (PostgreSQL)
   * or waits for the transaction to end (PGlite, which would deadlock).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Ends the pool or shuts PGlite down. Idempotent. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL connection string. Unset or empty: embedded PGlite. */
  url?: string;
  /** PGlite's data directory (created when missing). Unset: an in-memory database. Ignored with `url`. */
  dataDir?: string;
  /** Maximum PostgreSQL connections. Default 10. */
  poolSize?: number;
  /** Errors of idle pooled PostgreSQL connections (the pool replaces them). Default: ignored. */
  onIdleError?: (error: Error) => void;
}

/**
 * Opens the store and applies any pending migrations.
 *
 * ## Example
 * ```ts
 * import { openDatabase } from './leaderboard/store/database.js';
 *
 * const db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: './data/pglite' });
 * const [row] = await db.query<{ n: number }>('SELECT count(*) AS n FROM boards');
 * await db.close();
 * ```
 *
 * @param options Where the data lives; see {@link DatabaseOptions}.
 * @return An open, migrated database.
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  // Each engine is loaded only when used: PGlite's WebAssembly build is large.
  const db = options.url
    ? await (await import('./postgresDatabase.js')).openPostgres(options.url, options)
    : await (await import('./pgliteDatabase.js')).openPglite(options.dataDir);
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => {});
    throw new Error(`opening the ${db.engine} store failed: ${(error as Error).message}`, { cause: error });
  }
  return db;
}
