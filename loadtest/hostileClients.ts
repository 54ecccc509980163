/**
 * A scratch measurement, not a test: what one misbehaving client does to the service (issue 15).
 * It starts the service as `npm start` does (`leaderboard serve` from the sources, a private
 * redis-server, PGlite, workers; defaults for every limit) in a child process, lets a client on
 * 127.0.0.2 misbehave, keeps the board moving from 127.0.0.4 (batches with a key), and measures
 * from 127.0.0.3 how the others' reads fare (sequential `GET /top` over one keep-alive
 * connection), with the service's resident memory.
 *
 *   npx tsx loadtest/hostileClients.ts sse [streams=2000]      streams that read
 *   npx tsx loadtest/hostileClients.ts silent [streams=1000]   streams that never read (45 s)
 *   npx tsx loadtest/hostileClients.ts idle [sockets=5000]     idle sockets
 *   npx tsx loadtest/hostileClients.ts flood [requests=20000]  anonymous GET /top, 32 at a time
 *
 * Memory is read after a full garbage collection of the service (through its inspector, which
 * the script enables on a loopback port), so what it shows is what the process still holds. Run
 * it as `node --experimental-websocket --import tsx loadtest/hostileClients.ts ...` (Node 20 has
 * its WebSocket client behind that flag); with plain `npx tsx` memory is read without the GC.
 *
 * `--root DIR` runs the service of another checkout (the "before" figures: the same script
 * against the sources before the change); `--env NAME=VALUE` (repeatable) sets the service's
 * environment, e.g. `--env MAX_LIVE_STREAMS_PER_CLIENT=0` to lift a cap and see what is behind
 * it. Figures go to stdout as JSON lines.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const ATTACKER = '127.0.0.2';
const OTHER = '127.0.0.3';
const MOVER = '127.0.0.4';
const KEY = 'hostile-measure-key';

const { values, positionals } = parseArgs({
  options: { root: { type: 'string' }, seconds: { type: 'string' }, env: { type: 'string', multiple: true } },
  allowPositionals: true,
});
const [scenario = 'sse', countArg] = positionals;
const root = resolve(values.root ?? process.cwd());

interface Service {
  base: string;
  port: number;
  child: ChildProcess;
  /** The inspector's port (for the garbage collection before each memory reading). */
  inspectPort: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
  return port;
}

async function startService(): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'lb-hostile-'));
  const port = await freePort();
  const inspectPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir };
  env.LOG_LEVEL = 'warn';
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'KEY_PREFIX', 'READS_REQUIRE_KEY']) delete env[name];
  env.API_KEYS = `${KEY}=ingest+admin+read`;
  for (const setting of values.env ?? []) {
    const eq = setting.indexOf('=');
    env[setting.slice(0, eq)] = setting.slice(eq + 1);
  }
  const args = [`--inspect=127.0.0.1:${inspectPort}`, '--import', 'tsx', 'server/cli.ts', 'serve'];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env,
    // stderr: the inspector's banner, and the service's warnings.
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error('the service did not get ready');
    await sleep(250);
  }
  return {
    base,
    port,
    child,
    inspectPort,
    async stop() {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The service's memory, MB: resident (from /proc), and V8's heap in use and external memory
 * (Buffers) from its own `/metrics`, read from 127.0.0.3.
 */
async function memory(service: Service) {
  const collected = await collectGarbage(service.inspectPort);
  const status = readFileSync(`/proc/${service.child.pid}/status`, 'utf8');
  const rss = Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  const text = await new Promise<string>((done) => {
    const req = request(`${service.base}/metrics`, { agent: false, localAddress: OTHER }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => {
        body += piece;
      });
      res.on('end', () => done(body));
    });
    req.on('error', () => done(''));
    req.setTimeout(10_000, () => req.destroy());
    req.end();
  });
  const metric = (name: string) => {
    const value = new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1];
    return value === undefined ? null : Number(value);
  };
  const mb = (name: string) => {
    const value = metric(name);
    return value === null ? null : Math.round(value / 1048576);
  };
  return {
    afterGc: collected,
    rss,
    heapUsed: mb('nodejs_heap_size_used_bytes'),
    external: mb('nodejs_external_memory_bytes'),
    // The service's own counts, where it has them (not before these changes).
    liveStreams: metric('lb_live_streams'),
    liveStreamsDropped: metric('lb_live_streams_dropped_total'),
  };
}

/** A full garbage collection of the service, through the inspector protocol; false without WebSocket. */
async function collectGarbage(inspectPort: number): Promise<boolean> {
  const Socket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!Socket) return false;
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new Socket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((done, fail) => {
    ws.onopen = done;
    ws.onerror = fail;
  });
  const answered = new Promise((done) => {
    ws.onmessage = done;
  });
  ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  await answered;
  ws.close();
  return true;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Sequential `GET /top` from 127.0.0.3 for `seconds`: latency percentiles and failures. */
async function othersRead(base: string, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: OTHER });
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const started = performance.now();
    const outcome = await new Promise<string>((done) => {
      const req = request(`${base}/v1/boards/global/top`, { agent }, (res) => {
        res.resume();
        res.on('end', () => done(String(res.statusCode)));
      });
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', (error) => done(error.message.includes('timeout') ? 'timeout 5 s' : error.message));
      req.end();
    });
    if (outcome === '200') latencies.push(performance.now() - started);
    else failures[outcome] = (failures[outcome] ?? 0) + 1;
    await sleep(10);
  }
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    reads: latencies.length,
    p50: round(percentile(latencies, 0.5)),
    p99: round(percentile(latencies, 0.99)),
    max: round(latencies.at(-1) ?? Number.NaN),
    failures,
  };
}

/** Batches of 100 events every 50 ms from 127.0.0.4, so the top changes at every merge. */
function moveBoard(base: string): () => Promise<void> {
  let moving = true;
  let round = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: MOVER });
  const loop = (async () => {
    while (moving) {
      const events = Array.from({ length: 100 }, (_, i) => ({
        board: 'global',
        userId: `player-${(round * 37 + i) % 500}`,
        value: 1 + (round % 5),
      }));
      round++;
      const body = JSON.stringify({ events });
      await new Promise<void>((done) => {
        const req = request(
          `${base}/v1/events`,
          {
            agent,
            method: 'POST',
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => done());
          },
        );
        req.on('error', () => done());
        req.end(body);
      });
      await sleep(50);
    }
  })();
  return async () => {
    moving = false;
    await loop;
    agent.destroy();
  };
}

/** A live stream from 127.0.0.2 that reads (and drops) what it gets; resolves with its status. */
function readingStream(base: string): Promise<{ status: number; close(): void }> {
  return new Promise((done) => {
    const req = request(`${base}/v1/boards/global/live`, { agent: false, localAddress: ATTACKER }, (res) => {
      res.resume();
      done({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', () => done({ status: 0, close: () => req.destroy() }));
    req.setTimeout(10_000, () => req.destroy());
    req.end();
  });
}

/** A raw socket from 127.0.0.2; `request` is written at once, and nothing is ever read. */
function silentSocket(port: number, requestText?: string): Promise<Socket | undefined> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: ATTACKER });
    socket.on('error', () => done(undefined));
    socket.once('connect', () => {
      socket.pause();
      if (requestText) socket.write(requestText);
      done(socket);
    });
  });
}

const print = (figures: Record<string, unknown>) =>
  console.log(JSON.stringify({ scenario, root, ...figures }));

async function main(): Promise<void> {
  const service = await startService();
  const { base, port } = service;
  try {
    // Let the start's garbage go before the first reading.
    await sleep(10_000);
    const idle = await memory(service);
    if (scenario === 'sse') {
      const n = Number(countArg ?? 2000);
      const stop = moveBoard(base);
      const alone = await othersRead(base, 10);
      const opened = [];
      for (let i = 0; i < n; i += 50) {
        opened.push(
          ...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => readingStream(base)))),
        );
      }
      const statuses: Record<string, number> = {};
      for (const s of opened) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
      await sleep(2000);
      const withStreams = await othersRead(base, 15);
      const withStreamsMemory = await memory(service);
      for (const s of opened) s.close();
      await stop();
      await sleep(5000);
      print({
        streams: n,
        statuses,
        memory: { idle, withStreams: withStreamsMemory, afterClose: await memory(service) },
        alone,
        withStreams,
      });
    } else if (scenario === 'silent') {
      const n = Number(countArg ?? 1000);
      const seconds = Number(values.seconds ?? 45);
      const stop = moveBoard(base);
      const sockets = (
        await Promise.all(
          Array.from({ length: n }, () =>
            silentSocket(port, 'GET /v1/boards/global/live HTTP/1.1\r\nHost: x\r\n\r\n'),
          ),
        )
      ).filter((s): s is Socket => s !== undefined);
      const atOpen = await memory(service);
      const during = await othersRead(base, seconds);
      const afterSeconds = await memory(service);
      const stillOpen = sockets.filter((s) => !s.destroyed).length;
      for (const s of sockets) s.destroy();
      await stop();
      await sleep(5000);
      print({
        streams: sockets.length,
        seconds,
        memory: { idle, atOpen, afterSeconds, afterClose: await memory(service) },
        clientSocketsNotClosedByUs: stillOpen,
        during,
      });
    } else if (scenario === 'idle') {
      const n = Number(countArg ?? 5000);
      const sockets: Socket[] = [];
      for (let i = 0; i < n; i += 250) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(250, n - i) }, () => silentSocket(port)),
        );
        sockets.push(...batch.filter((s): s is Socket => s !== undefined));
      }
      for (const s of sockets) s.resume(); // notice the server's close
      await sleep(2000);
      const heldAfter2s = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
      const held = await memory(service);
      const during = await othersRead(base, 10);
      const ready = await fetch(`${base}/readyz`).then(
        (r) => r.status,
        (e: Error) => e.message,
      );
      await sleep(3000);
      const heldAfter15s = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
      print({
        sockets: n,
        connected: sockets.length,
        heldAfter2s,
        heldAfter15s,
        memory: { idle, held },
        readyz: ready,
        during,
      });
      for (const s of sockets) s.destroy();
    } else if (scenario === 'flood') {
      const n = Number(countArg ?? 20_000);
      const agent = new Agent({ keepAlive: true, maxSockets: 32, localAddress: ATTACKER });
      const statuses: Record<string, number> = {};
      const started = performance.now();
      const one = () =>
        new Promise<void>((done) => {
          const req = request(`${base}/v1/boards/global/top`, { agent }, (res) => {
            res.resume();
            res.on('end', () => {
              statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
              done();
            });
          });
          req.on('error', (e) => {
            statuses[e.message] = (statuses[e.message] ?? 0) + 1;
            done();
          });
          req.end();
        });
      let sent = 0;
      const others = othersRead(base, 5);
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (sent < n) {
            sent++;
            await one();
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      agent.destroy();
      print({ requests: n, perSecond: Math.round(n / seconds), statuses, during: await others });
    } else {
      throw new Error(`unknown scenario '${scenario}' (sse, silent, idle, flood)`);
    }
  } finally {
    await service.stop();
  }
}

await main();
// The inspector's WebSocket client can keep the loop alive after its close.
process.exit(0);
