/**
 * The shapes of the HTTP API as zod schemas, once: the request bodies are the very schemas the
 * routes validate with (`validation.ts`, the board config's own); the answers are declared here
 * and checked against what the routes send in the tests. The OpenAPI description (`openapi.ts`)
 * is generated from both.
 */
import { z } from 'zod';
import { boardConfigSchema } from '../leaderboard/index.js';
import {
  batchEventSchema,
  friendsSchema,
  MAX_BATCH,
  profileSchema,
  singleEventSchema,
} from './validation.js';

export const errorSchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'kebab-case, e.g. invalid-event, unknown-board, backlog-full' }),
    message: z.string().meta({ description: 'what is wrong and why' }),
  }),
});

export const profileOfEntry = z
  .object({ name: z.string(), avatarUrl: z.string().nullable() })
  .meta({ description: 'the user’s profile, when they have one' });

export const entrySchema = z.object({
  rank: z.number().int().min(1),
  userId: z.string(),
  score: z.number(),
  profile: profileOfEntry.optional(),
});

const windowFields = {
  board: z.string(),
  window: z
    .string()
    .meta({ description: 'the window’s name: all, hour, day, week, month or an ISO-8601 duration' }),
  windowStart: z.number().int().meta({ description: 'epoch ms, inclusive' }),
  windowEnd: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'epoch ms, exclusive: when the window resets; null for all' }),
};

export const topSchema = z.object({
  ...windowFields,
  version: z.number().int().meta({ description: 'the snapshot’s version (0: none yet)' }),
  updatedAt: z.number().int().nullable(),
  entries: z.array(entrySchema),
});

export const standingSchema = z.object({
  userId: z.string(),
  rank: z.number().int().min(1),
  score: z.number(),
  total: z.number().int().meta({ description: 'users with a score in the window (hidden users left out)' }),
  percentile: z
    .number()
    .min(0)
    .max(100)
    .meta({ description: 'share of the other users ranked below, 0..100' }),
});

export const entriesSchema = z.object({ ...windowFields, entries: z.array(entrySchema) });

export const pageSchema = z.object({
  ...windowFields,
  entries: z.array(entrySchema),
  next: z
    .string()
    .nullable()
    .meta({ description: 'the cursor of the next page (pass it as `after`); null after the last page' }),
});

export const acceptedSchema = z.object({ accepted: z.number().int().min(1) });

export const batchBodySchema = z
  .object({ events: z.array(batchEventSchema).min(1).max(MAX_BATCH) })
  .strict()
  .meta({ description: 'All or nothing: one invalid event rejects the request with 400 naming its index.' });

export const boardsListSchema = z.object({
  boards: z.array(boardConfigSchema),
  next: z
    .string()
    .nullable()
    .optional()
    .meta({ description: 'the cursor of the next page, when there are more boards' }),
});

export const hiddenListSchema = z.object({ board: z.string(), users: z.array(z.string()) });
export const hiddenStateSchema = z.object({ userId: z.string(), hidden: z.boolean() });

export const profileAnswerSchema = z.object({
  userId: z.string(),
  name: z.string(),
  avatarUrl: z.string().nullable(),
});
export const friendsAnswerSchema = z.object({ userId: z.string(), friends: z.array(z.string()) });

/** A stats sample (`GET /v1/stats`). */
export const statsSampleSchema = z
  .object({
    at: z.number().int().meta({ description: 'epoch ms of the sample' }),
    ingestedPerSecond: z.number().meta({ description: 'events this process accepted (202), per second' }),
    appliedPerSecond: z.number().nullable().meta({
      description: 'stream entries this process’s workers applied, per second; null without workers here',
    }),
    lateEventsPerSecond: z
      .number()
      .nullable()
      .meta({ description: 'late (event, window) pairs set aside by this process’s workers, per second' }),
    deadLettersPerSecond: z
      .number()
      .nullable()
      .meta({ description: 'entries this process’s workers moved to dead-letter streams, per second' }),
    freshnessP50Ms: z.number().nullable().meta({
      description:
        'median of lb_freshness_seconds over the snapshots of the last 10 s, ms (interpolated in its buckets); null without snapshots or workers here',
    }),
    freshnessP99Ms: z.number().nullable().meta({ description: '99th percentile, as freshnessP50Ms' }),
    backlog: z.array(z.number().int().min(0)).nullable().meta({
      description:
        'per partition (index = partition): entries not yet delivered plus delivered and not acknowledged, read from the stream groups (every process’s workers); null while nobody has asked for the stats in the last 30 s',
    }),
  })
  .meta({
    description:
      'One sample, taken every intervalMs: rates over the interval before `at`, the backlog read at `at`. The rates count this process only: its edge, and its workers when they run in it (null otherwise).',
  });

export const statsSchema = z.object({
  intervalMs: z.number().int().meta({ description: 'sampling interval (1000)' }),
  workersInProcess: z.boolean(),
  partitions: z.number().int(),
  samples: z
    .array(statsSampleSchema)
    .max(300)
    .meta({ description: 'oldest first; the last five minutes at most' }),
});

/**
 * Every named shape of the API, as the OpenAPI description's components: request bodies (the
 * routes' own validation schemas) and answers.
 */
export const apiRegistry = z.registry<{ id: string }>();
const NAMED: Record<string, z.ZodType> = {
  Error: errorSchema,
  BoardConfig: boardConfigSchema,
  Event: singleEventSchema,
  EventBatch: batchBodySchema,
  ProfileInput: profileSchema,
  Friends: friendsSchema,
  Entry: entrySchema,
  Top: topSchema,
  Standing: standingSchema,
  Entries: entriesSchema,
  EntriesPage: pageSchema,
  Accepted: acceptedSchema,
  BoardList: boardsListSchema,
  HiddenUsers: hiddenListSchema,
  HiddenState: hiddenStateSchema,
  Profile: profileAnswerSchema,
  FriendList: friendsAnswerSchema,
  StatsSample: statsSampleSchema,
  Stats: statsSchema,
};
for (const [id, schema] of Object.entries(NAMED)) apiRegistry.add(schema, { id });
