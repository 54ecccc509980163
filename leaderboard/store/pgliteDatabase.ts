/** The {@link Database} on embedded PGlite (PostgreSQL compiled to WebAssembly), in memory or on disk. */
import { mkdir } from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

/**
 * Starts PGlite. One process at a time may own a data directory: PGlite takes no lock on it, and
 * two instances on the same files corrupt them.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const options = { parsers: { [types.INT8]: (value: string) => Number(value) } };
  let pglite: PGlite;
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    pglite = await PGlite.create(dataDir, options);
  } else {
    pglite = await PGlite.create(options);
  }
  let closed: Promise<void> | undefined;

  const run = async <T>(target: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) =>
    (await target.query<T>(sql, params ? [...params] : undefined)).rows;

  return {
    engine: 'pglite',
    query: (sql, params) => run(pglite, sql, params),
    transaction: (fn) =>
      pglite.transaction((transaction) => {
        const tx: Queryable = { query: (sql, params) => run(transaction, sql, params) };
        return fn(tx);
      }),
    close() {
      closed ??= pglite.close();
      return closed;
    },
  };
}
