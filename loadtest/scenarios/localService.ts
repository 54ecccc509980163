/**
 * The service as `npm start` runs it (`leaderboard serve`: HTTP server and workers in one
 * process, a private redis-server with AOF, PGlite), in a child process so the load generator
 * never shares its event loop, with its data in a temporary directory removed afterwards and a
 * generated key with every scope.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../server/redisServerProcess.js';

export interface LocalService {
  url: string;
  apiKey: string;
  stop(): Promise<void>;
}

/** Variables of the caller's environment that would point the service elsewhere. */
const NOT_INHERITED = [
  'PORT',
  'HOST',
  'REDIS_URL',
  'DATABASE_URL',
  'DATA_DIR',
  'KEY_PREFIX',
  'API_KEYS',
  'READS_REQUIRE_KEY',
];

export async function startLocalService(): Promise<LocalService> {
  const dir = mkdtempSync(join(tmpdir(), 'lb-loadtest-'));
  const port = await freePort();
  const apiKey = `loadtest-${randomBytes(12).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of NOT_INHERITED) delete env[name];
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    API_KEYS: `${apiKey}=ingest+admin+read`,
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    // All the load comes from this one address, reads without a key: the per-client limits meant
    // for one hostile client would refuse it (read-heavy reads 1,000/s and holds 50 streams).
    ANONYMOUS_RATE_LIMIT_RPS: env.ANONYMOUS_RATE_LIMIT_RPS ?? '0',
    MAX_LIVE_STREAMS_PER_CLIENT: env.MAX_LIVE_STREAMS_PER_CLIENT ?? '0',
  });
  // cli.js next to the built server, cli.ts in the sources (tsx passes its loader on to the fork).
  const cli = fileURLToPath(
    new URL(`../../server/cli${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
  );
  const child = fork(cli, ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  // The banner goes nowhere; log lines (pino JSON, warnings and worse) go to stderr.
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    for (const line of chunk.split('\n'))
      if (line.startsWith('{')) process.stderr.write(`service: ${line}\n`);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(url, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, apiKey, stop };
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the service exited with code ${child.exitCode} while starting`);
    try {
      const response = await fetch(`${url}/readyz`);
      await response.text();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error('the service was not ready within 60 s');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
