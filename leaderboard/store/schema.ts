/**
 * The relational schema, one migration per version, shared by PostgreSQL and PGlite.
 *
 * Migrations are append-only: never edit a released one, add the next version instead. Each is a
 * list of single statements (PGlite's extended protocol runs one statement per call), applied in
 * one transaction together with its `schema_migrations` row.
 *
 * `window` is a reserved word in PostgreSQL, so that column is always written `"window"`.
 * Window bounds are epoch milliseconds (`bigint`), as everywhere else in the pipeline.
 */

export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'boards, profiles, friends, archived windows',
    statements: [
      `CREATE TABLE boards (
        id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        config jsonb NOT NULL CHECK (config->>'id' = id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE profiles (
        user_id text PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 128),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
        avatar_url text CHECK (length(avatar_url) <= 2048),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE friends (
        user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 128),
        friend_id text NOT NULL CHECK (length(friend_id) BETWEEN 1 AND 128),
        PRIMARY KEY (user_id, friend_id),
        CHECK (friend_id <> user_id)
      )`,
      `CREATE TABLE archived_windows (
        board text NOT NULL,
        "window" text NOT NULL CHECK ("window" IN ('all', 'day', 'week', 'month')),
        window_start bigint NOT NULL,
        window_end bigint NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now(),
        entries integer NOT NULL CHECK (entries >= 0),
        PRIMARY KEY (board, "window", window_start),
        CHECK (window_end > window_start)
      )`,
      `CREATE TABLE archived_entries (
        board text NOT NULL,
        "window" text NOT NULL,
        window_start bigint NOT NULL,
        window_end bigint NOT NULL,
        rank integer NOT NULL CHECK (rank >= 1),
        user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 128),
        score double precision NOT NULL,
        PRIMARY KEY (board, "window", window_start, user_id),
        FOREIGN KEY (board, "window", window_start)
          REFERENCES archived_windows (board, "window", window_start) ON DELETE CASCADE
      )`,
      `CREATE INDEX archived_entries_by_rank ON archived_entries (board, "window", window_start, rank)`,
    ],
  },
  {
    version: 2,
    name: 'archived windows of any window name (hour, ISO-8601 durations)',
    statements: [
      'ALTER TABLE archived_windows DROP CONSTRAINT IF EXISTS archived_windows_window_check',
      `ALTER TABLE archived_windows ADD CONSTRAINT archived_windows_window_name
        CHECK ("window" ~ '^[A-Za-z0-9_.+-]{1,64}$')`,
    ],
  },
];
