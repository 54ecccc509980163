/**
 * The service's configuration, from the environment (API.md, "Operations"), with defaults that
 * make `npm start` work on a fresh machine.
 */
import { z } from 'zod';
import { TrustedProxies } from './clientAddress.js';

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const ms = (fallback: number, min = 100) => z.coerce.number().int().min(min).default(fallback);

/** `host:port,host:port,...`, each port 1..65535. */
const hostList = z.string().transform((text, ctx) => {
  const hosts = text
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  for (const host of hosts) {
    const match = /^(.+):(\d{1,5})$/.exec(host);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      ctx.addIssue({ code: 'custom', message: `'${host}' is not host:port` });
      return z.NEVER;
    }
  }
  if (hosts.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one host:port' });
    return z.NEVER;
  }
  return hosts.map((h) => ({
    host: h.slice(0, h.lastIndexOf(':')),
    port: Number(h.slice(h.lastIndexOf(':') + 1)),
  }));
});
const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  REDIS_URL: z.string().url().optional(),
  /** Seed nodes of a Redis Cluster, `host:port,host:port,...` (instead of REDIS_URL). */
  REDIS_CLUSTER: hostList.optional(),
  /** Sentinels of a Sentinel-managed primary, `host:port,...` (instead of REDIS_URL). */
  REDIS_SENTINELS: hostList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  /** Credentials and TLS for REDIS_CLUSTER and REDIS_SENTINELS (REDIS_URL carries its own). */
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: flag.default(false),
  /** The sentinels' own password, when they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** `local`: 202 once the primary holds the events; `replicated`: once a replica holds them too. */
  DURABILITY: z.enum(['local', 'replicated']).default('local'),
  /** How long a read may wait for Redis (each command, and the whole read) before it is answered 503, ms. */
  REDIS_READ_TIMEOUT_MS: ms(2000),
  /** How long a replicated append waits for a replica before it is answered 503, ms. */
  REPLICA_WAIT_MS: ms(1000, 1),
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
  REFRESH_MS: z.coerce.number().int().min(5).default(20),
  APPENDFSYNC: z.enum(['always', 'everysec', 'no']).default('everysec'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // The edge's defences against clients that hold its sockets or flood it (README, "The edge
  // under hostile clients").
  /** Requests per second per client address for requests without a key; 0 turns it off. */
  ANONYMOUS_RATE_LIMIT_RPS: z.coerce.number().min(0).default(200),
  /** Proxies whose `X-Forwarded-For` names the client: addresses and CIDR ranges. */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .superRefine((spec, ctx) => {
      try {
        TrustedProxies.parse(spec);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^TRUSTED_PROXIES: /, '') });
      }
    }),
  /** Connections held at once; unset: what fits under the open-file limit (`openFileLimit.ts`). */
  MAX_CONNECTIONS: z.coerce.number().int().min(1).optional(),
  MAX_CONNECTIONS_PER_CLIENT: count(256),
  /** The most boards the service holds: a PUT that would create one more answers 409 board-limit. */
  MAX_BOARDS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  MAX_LIVE_STREAMS: count(1000),
  MAX_LIVE_STREAMS_PER_CLIENT: count(32),
  /** How long a live stream may hold an update its client does not read before it is dropped. */
  LIVE_STALL_MS: ms(10_000),
  HEADERS_TIMEOUT_MS: ms(10_000),
  REQUEST_TIMEOUT_MS: ms(30_000),
  KEEP_ALIVE_TIMEOUT_MS: ms(5_000),
  /** How long a socket may carry no traffic either way (0: no limit). */
  SOCKET_IDLE_TIMEOUT_MS: ms(60_000, 0),
  /** How often Node checks the header and request timeouts. */
  CONNECTIONS_CHECK_MS: ms(1_000),
  /** Requests served on one connection before it is closed (0: no limit). */
  MAX_REQUESTS_PER_SOCKET: count(0),
});

export type Config = z.infer<typeof envSchema>;

/** Reads the configuration; a bad value stops the start with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema
    .refine((c) => c.HEADERS_TIMEOUT_MS <= c.REQUEST_TIMEOUT_MS, {
      path: ['HEADERS_TIMEOUT_MS'],
      message: 'must not be above REQUEST_TIMEOUT_MS (the whole request includes its headers)',
    })
    .refine(
      (c) => [c.REDIS_URL, c.REDIS_CLUSTER, c.REDIS_SENTINELS].filter((v) => v !== undefined).length <= 1,
      {
        path: ['REDIS_URL'],
        message: 'give one of REDIS_URL, REDIS_CLUSTER and REDIS_SENTINELS',
      },
    )
    .safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return result.data;
}
