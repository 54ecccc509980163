import { describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../leaderboard/store/database.js';
import { migrate } from '../../leaderboard/store/migrations.js';
import { getProfiles, setProfile } from '../../leaderboard/store/profiles.js';
import { MIGRATIONS } from '../../leaderboard/store/schema.js';
import { ENGINES, unique, useStore } from './engines.js';

const LATEST = MIGRATIONS.at(-1)!.version;
/** Every version the schema has, each recorded once. */
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

const versions = async (db: Database) =>
  (await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map(
    (row) => row.version,
  );

describe.each(ENGINES)('database on $name', (engine) => {
  const store = useStore(engine);

  it('reports its engine and returns bigint columns as numbers', async () => {
    expect(store.db.engine).toBe(engine.name);
    const [row] = await store.db.query<{ n: unknown; c: unknown }>(
      'SELECT $1::bigint AS n, count(*) AS c FROM schema_migrations',
      [Number.MAX_SAFE_INTEGER],
    );
    expect(row).toEqual({ n: Number.MAX_SAFE_INTEGER, c: MIGRATIONS.length });
  });

  it('has applied every migration once, and applying them again does nothing', async () => {
    expect(await versions(store.db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(store.db)).toEqual([]);
    expect(await migrate(store.db)).toEqual([]);
    expect(await versions(store.db)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('opening the same storage again keeps the data and applies nothing twice', async () => {
    const storage = await engine.provision(true);
    try {
      const first = await openDatabase(storage.options);
      await setProfile(first, 'ada', { name: 'Ada' });
      await first.close();
      await first.close(); // idempotent

      const second = await openDatabase(storage.options);
      try {
        expect(await versions(second)).toEqual(ALL_VERSIONS);
        expect((await getProfiles(second, ['ada'])).get('ada')).toEqual({ name: 'Ada', avatarUrl: null });
      } finally {
        await second.close();
      }
    } finally {
      await storage.drop();
    }
  });

  it.runIf(engine.name === 'postgres')(
    'two processes migrating a fresh schema at once both succeed',
    async () => {
      const storage = await engine.provision();
      try {
        const [a, b] = await Promise.all([openDatabase(storage.options), openDatabase(storage.options)]);
        expect(await versions(a)).toEqual(ALL_VERSIONS);
        await Promise.all([a.close(), b.close()]);
      } finally {
        await storage.drop();
      }
    },
  );

  it('a failing migration leaves no trace: its earlier statements are rolled back and no version recorded', async () => {
    const table = unique('never_');
    const broken = [
      ...MIGRATIONS,
      {
        version: LATEST + 1,
        name: 'broken',
        statements: [`CREATE TABLE ${table} (a int)`, 'SELECT no_such_fn()'],
      },
    ];
    await expect(migrate(store.db, broken)).rejects.toThrow(/no_such_fn/);
    expect(await versions(store.db)).toEqual(ALL_VERSIONS);
    const tables = await store.db.query('SELECT 1 FROM information_schema.tables WHERE table_name = $1', [
      table,
    ]);
    expect(tables).toEqual([]);
  });

  it('refuses a database whose schema is newer than the code', async () => {
    await expect(migrate(store.db, [])).rejects.toThrow(
      `schema version ${LATEST}, newer than this code knows (0)`,
    );
  });

  it('refuses migrations that are not in ascending version order', async () => {
    const [first] = MIGRATIONS;
    await expect(migrate(store.db, [first!, first!])).rejects.toThrow(/strictly ascending/);
  });

  it('a transaction commits when its function resolves and rolls back when it throws', async () => {
    const [kept, dropped] = [unique(), unique()];
    const result = await store.db.transaction(async (tx) => {
      await setProfile(tx, kept, { name: 'Kept' });
      return 'done';
    });
    expect(result).toBe('done');

    const boom = new Error('boom');
    await expect(
      store.db.transaction(async (tx) => {
        await setProfile(tx, dropped, { name: 'Dropped' });
        throw boom;
      }),
    ).rejects.toBe(boom);

    const found = await getProfiles(store.db, [kept, dropped]);
    expect([...found.keys()]).toEqual([kept]);
  });

  it('a failed statement inside a transaction rolls back the whole transaction', async () => {
    const id = unique();
    await expect(
      store.db.transaction(async (tx) => {
        await setProfile(tx, id, { name: 'Half' });
        await tx.query('SELECT 1 / 0');
      }),
    ).rejects.toThrow(/division by zero/);
    expect((await getProfiles(store.db, [id])).size).toBe(0);
    // The connection is usable afterwards.
    expect(await store.db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
