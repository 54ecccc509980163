/**
 * Clients for the tests of the edge under hostile clients: requests and raw sockets bound to a
 * chosen loopback address (127.0.0.2 and up: on Linux the whole of 127/8 is local, and a socket
 * bound to 127.0.0.2 reaches a server on 127.0.0.1 as that peer), each with a generous deadline
 * after which it fails instead of hanging the test.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { type EdgeServer, listenEdge } from '../../server/edgeServer.js';
import { startTestService, type TestService } from '../support/service.js';

/** The test service listening as `npm start` listens (`listenEdge`, on 127.0.0.1). */
export interface Edge {
  svc: TestService;
  server: EdgeServer;
  base: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the test service with `env` (small caps and timeouts) and listens.
 *
 * @example
 * const e = await edgeWith({ MAX_CONNECTIONS_PER_CLIENT: '20' });
 */
export async function edgeWith(
  env: Record<string, string>,
  options: { workers?: boolean } = {},
): Promise<Edge> {
  const svc = await startTestService({ env, workers: options.workers });
  const server = await listenEdge(svc.app, svc.services, { port: 0, hostname: '127.0.0.1' });
  const port = (server.address() as { port: number }).port;
  return {
    svc,
    server,
    port,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closing;
      await svc.stop();
    },
  };
}

/** How long a client waits for an answer before the test counts it as not answered, ms. */
export const ANSWER_DEADLINE_MS = 5000;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface GetOptions {
  /** The local address the client binds (who the server sees). */
  from: string;
  headers?: Record<string, string>;
  /** Default `ANSWER_DEADLINE_MS`. */
  deadlineMs?: number;
}

/**
 * One GET on a fresh connection from `options.from`; rejects when no complete answer arrives
 * before the deadline.
 *
 * @example
 * const top = await getFrom(base, '/v1/boards/global/top', { from: '127.0.0.3' });
 */
export function getFrom(base: string, path: string, options: GetOptions): Promise<Answer> {
  const deadlineMs = options.deadlineMs ?? ANSWER_DEADLINE_MS;
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { headers: options.headers, localAddress: options.from, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (piece: string) => {
          body += piece;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(
      () => fail(new Error(`GET ${path} from ${options.from}: no answer within ${deadlineMs} ms`)),
      deadlineMs,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      req.destroy();
      reject(error);
    }
    req.on('error', fail);
    req.end();
  });
}

/** A raw TCP connection, with what it received and when it closed. */
export interface RawSocket {
  socket: Socket;
  /** Everything the server sent, as text. */
  received(): string;
  /** Resolves when the connection closed (either side). */
  closed: Promise<void>;
  isClosed(): boolean;
}

/**
 * Opens a raw connection to `port` on 127.0.0.1 from `from`; resolves once connected. It reads
 * what the server sends unless `paused` (a client that never reads).
 *
 * @example
 * const idle = await rawSocket(port, '127.0.0.2');
 */
export function rawSocket(
  port: number,
  from: string,
  options: { paused?: boolean } = {},
): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    let text = '';
    let isClosed = false;
    const closed = new Promise<void>((done) =>
      socket.once('close', () => {
        isClosed = true;
        done();
      }),
    );
    socket.setEncoding('utf8');
    if (!options.paused) {
      socket.on('data', (piece: string) => {
        text += piece;
      });
    }
    socket.on('error', () => {}); // a reset is one way the server closes; `closed` tells
    socket.once('connect', () => {
      socket.off('error', reject);
      if (options.paused) socket.pause();
      resolve({ socket, received: () => text, closed, isClosed: () => isClosed });
    });
    socket.once('error', reject);
  });
}

/**
 * Resolves when `promise` does, or rejects after `ms` naming `what`: the bound of "within a
 * bounded time" in these tests (not a performance assertion).
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls `check` every 20 ms until it is true; rejects after `ms` naming `what`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The status line and JSON body of a raw HTTP answer a socket received. */
export function parseRawAnswer(text: string): {
  status: number;
  headers: Record<string, string>;
  body: unknown;
} {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, end < 0 ? text.length : end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const raw = end < 0 ? '' : text.slice(end + 4);
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON: kept as text
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}
