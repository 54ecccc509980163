/**
 * Brings a database up to the newest schema version. Idempotent, and safe when several processes
 * start at once: the whole run holds a transaction-scoped advisory lock, so a second migrator waits
 * and then finds nothing left to do.
 */
import type { Database } from './database.js';
import { MIGRATIONS, type Migration } from './schema.js';

// An arbitrary constant shared by every migrator of this schema ("lbmg" in ASCII).
const MIGRATION_LOCK = 0x6c626d67;

/**
 * Applies every migration whose version `schema_migrations` does not list yet, in version order,
 * in one transaction.
 *
 * ## Example
 * ```ts
 * import { migrate } from './leaderboard/store/migrations.js';
 *
 * const applied = await migrate(db); // [] when the schema is already current
 * ```
 *
 * @param db The database; `openDatabase` calls this already.
 * @param migrations The migrations to apply, ascending by version (the project's schema by default).
 * @return The versions applied by this call.
 * @throws Error when the database holds a version this code does not know (it is newer than us).
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  checkOrder(migrations);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    const newest = migrations.at(-1)?.version ?? 0;
    const unknown = [...done].filter((version) => version > newest);
    if (unknown.length > 0) {
      throw new Error(
        `the database has schema version ${Math.max(...unknown)}, newer than this code knows (${newest}); ` +
          'upgrade the service instead of running an older one against it',
      );
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}

function checkOrder(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const { version } of migrations) {
    if (!Number.isInteger(version) || version <= previous) {
      throw new Error(`migrations must have strictly ascending positive integer versions, got ${version}`);
    }
    previous = version;
  }
}
