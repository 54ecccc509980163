/**
 * The databases the store tests run against: embedded PGlite always, PostgreSQL too when
 * `DATABASE_URL` is set. Each PostgreSQL run gets a random schema (through `search_path`), dropped
 * afterwards, so parallel runs never see each other's tables. One database per test file, since
 * PGlite takes seconds to start: tests isolate themselves with unique ids instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import {
  type Database,
  type DatabaseOptions,
  type Engine,
  openDatabase,
} from '../../leaderboard/store/database.js';

export interface Storage {
  options: DatabaseOptions;
  /** Removes the storage (schema or directory). */
  drop(): Promise<void>;
}

export interface StoreEngine {
  name: Engine;
  /** Fresh, empty storage; `persistent` asks for PGlite on disk, so it can be opened again. */
  provision(persistent?: boolean): Promise<Storage>;
}

const pglite: StoreEngine = {
  name: 'pglite',
  async provision(persistent = false) {
    if (!persistent) return { options: {}, drop: async () => {} };
    const dataDir = await mkdtemp(join(tmpdir(), 'lb-store-'));
    return { options: { dataDir }, drop: () => rm(dataDir, { recursive: true, force: true }) };
  },
};

const postgres = (url: string): StoreEngine => ({
  name: 'postgres',
  async provision() {
    const schema = `lb_test_${randomBytes(6).toString('hex')}`;
    await admin(url, `CREATE SCHEMA ${schema}`);
    const scoped = new URL(url);
    scoped.searchParams.set('options', `-c search_path=${schema}`);
    return {
      options: { url: scoped.toString() },
      drop: () => admin(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`),
    };
  },
});

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export const ENGINES: StoreEngine[] = [
  pglite,
  ...(process.env.DATABASE_URL ? [postgres(process.env.DATABASE_URL)] : []),
];

/**
 * Opens one database of the engine for the enclosing `describe`, and closes and drops it after.
 * Read `store.db` inside tests.
 */
export function useStore(engine: StoreEngine): { readonly db: Database; readonly storage: Storage } {
  let db: Database | undefined;
  let storage: Storage | undefined;
  beforeAll(async () => {
    storage = await engine.provision();
    db = await openDatabase(storage.options);
  });
  afterAll(async () => {
    await db?.close();
    await storage?.drop();
  });
  return {
    get db() {
      if (db === undefined) throw new Error('the store is not open yet');
      return db;
    },
    get storage() {
      if (storage === undefined) throw new Error('the store is not provisioned yet');
      return storage;
    },
  };
}

/** A unique id for one test's rows, e.g. `u3f9a0c1d-`; add a suffix per row. */
export function unique(label = 'u'): string {
  return `${label}${randomBytes(4).toString('hex')}`;
}

/** A database that records every statement it runs (transactions included), with its parameters. */
export function counting(db: Database): { db: Database; statements: { sql: string; params: unknown[] }[] } {
  const statements: { sql: string; params: unknown[] }[] = [];
  const record = (sql: string, params?: readonly unknown[]) =>
    statements.push({ sql, params: [...(params ?? [])] });
  const wrapped: Database = {
    engine: db.engine,
    query: (sql, params) => {
      record(sql, params);
      return db.query(sql, params);
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: (sql, params) => {
            record(sql, params);
            return tx.query(sql, params);
          },
        }),
      ),
    close: () => db.close(),
  };
  return { db: wrapped, statements };
}

/**
 * A database whose next `failures` calls (queries or transactions) fail as a dropped connection
 * would: `before` they reach the database, or `after` it did the work (the commit went through,
 * but the caller never heard of it).
 */
export function flaky(db: Database): {
  db: Database;
  fail(failures: number, when?: 'before' | 'after'): void;
  readonly failed: number;
} {
  let remaining = 0;
  let phase: 'before' | 'after' = 'before';
  let failed = 0;
  const trip = (now: 'before' | 'after') => {
    if (remaining === 0 || phase !== now) return;
    remaining--;
    failed++;
    throw new Error('Connection terminated unexpectedly (simulated)');
  };
  const around = async <T>(work: () => Promise<T>): Promise<T> => {
    trip('before');
    const result = await work();
    trip('after');
    return result;
  };
  return {
    db: {
      engine: db.engine,
      query: (sql, params) => around(() => db.query(sql, params)),
      transaction: (fn) => around(() => db.transaction(fn)),
      close: () => db.close(),
    },
    fail(failures, when = 'before') {
      remaining = failures;
      phase = when;
    },
    get failed() {
      return failed;
    },
  };
}
