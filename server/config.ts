/**
 * The service's configuration, from the environment (API.md, "Operations"), with defaults that
 * make `npm start` work on a fresh machine.
 */
import { z } from 'zod';

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  REDIS_URL: z.string().url().optional(),
  DATABASE_URL: z.string().optional(),
  PARTITIONS: z.coerce.number().int().min(1).max(4096).default(16),
  /** Prefix of every Redis key (stream family name), so deployments can share a Redis. */
  KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .default('lb'),
  API_KEYS: z.string().optional(),
  DATA_DIR: z.string().default('./data'),
  READS_REQUIRE_KEY: flag.default(false),
  HIGH_WATER_MARK: z.coerce.number().int().min(1).default(1_000_000),
  RATE_LIMIT_RPS: z.coerce.number().min(0).default(20_000),
  FRIENDS_PRECOMPUTE_THRESHOLD: z.coerce.number().int().min(1).default(1000),
  RETENTION_DAYS: z.coerce.number().min(0.001).default(7),
  REFRESH_MS: z.coerce.number().int().min(5).default(50),
  APPENDFSYNC: z.enum(['always', 'everysec', 'no']).default('everysec'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof envSchema>;

/** Reads the configuration; a bad value stops the start with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return result.data;
}
