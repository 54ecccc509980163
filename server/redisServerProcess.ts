/**
 * Starts and stops a `redis-server` child process (the Debian binary) on a free port, in its own
 * directory. Without extra arguments it keeps nothing on disk; `npm start` adds AOF. Used by the
 * service's private Redis, the benchmark runner, and (re-exported from `test/support/redisServer.ts`)
 * the test setup and the drills that restart Redis.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface RedisServerHandle {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM, or the given signal) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
  /** Reuse this port (restarts after a crash). Default: a free one. */
  port?: number;
  /** Reuse this data directory. Default: a new temporary one, removed on stop. */
  dir?: string;
  /**
   * Run it in its own process group, so that a terminal's Ctrl-C reaches only its parent, which
   * stops it after what still needs Redis (the service's graceful stop). Default false.
   */
  detached?: boolean;
}

/** Asks the kernel for a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'lb-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.args ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: options.detached ?? false });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`could not start redis-server (is it installed?): ${error.message}`)),
    );
  });
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([waitForPing(url), spawnError]);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    port,
    dir,
    process: child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // refused connections are expected until the server listens
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not answer: ${String(error)}`);
      await sleep(50);
    } finally {
      client.disconnect();
    }
  }
}
