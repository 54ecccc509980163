/**
 * Caps on the connections the edge holds: in total (`MAX_CONNECTIONS`, below the open-file limit)
 * and per client address (`MAX_CONNECTIONS_PER_CLIENT`). A connection over a cap is refused as
 * it is accepted, before Node's HTTP parser sees it: it is answered `503` with `Retry-After` and
 * the contract's JSON error, then closed. Past the total cap plus a small slack, the kernel's
 * connection is closed at once, unanswered (`server.maxConnections`), so a flood of connections
 * never takes the process's last file descriptors.
 *
 * The per-client cap counts the socket's peer, the only address known before a request: a
 * trusted proxy (`TRUSTED_PROXIES`) carries many clients and counts in the total only.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { clientKey, type TrustedProxies } from './clientAddress.js';
import { HttpError } from './httpError.js';
import { REFUSAL_SLACK } from './openFileLimit.js';
import { refuseSocket } from './rawResponse.js';

export interface ConnectionLimitOptions {
  /** Connections held at once, from every client. */
  maxConnections: number;
  /** Connections held at once from one client address (0: no per-client cap). */
  maxPerClient: number;
  proxies: TrustedProxies;
  /** Called for each refused connection, with why. */
  onRefused?: (reason: 'total' | 'client') => void;
}

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_SECONDS = '1';

/**
 * @example
 * const limits = new ConnectionLimits({ maxConnections: 10_000, maxPerClient: 256, proxies });
 * limits.attach(server);
 */
export class ConnectionLimits {
  readonly #options: ConnectionLimitOptions;
  readonly #perClient = new Map<string, number>();
  #open = 0;

  constructor(options: ConnectionLimitOptions) {
    this.#options = options;
  }

  /** The total cap. */
  get maxConnections(): number {
    return this.#options.maxConnections;
  }

  /** Connections held now (accepted, not yet closed). */
  get open(): number {
    return this.#open;
  }

  /** Connections held now from the client `address`. */
  openFrom(address: string): number {
    return this.#perClient.get(clientKey(address)) ?? 0;
  }

  /**
   * Puts the caps in front of `server`'s own connection handling: its `connection` listeners
   * (Node's HTTP parser) only ever see the connections admitted.
   */
  attach(server: Server): void {
    server.maxConnections = this.#options.maxConnections + REFUSAL_SLACK;
    const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      const refusal = this.#admit(socket);
      if (refusal) {
        refuseSocket(socket, refusal);
        return;
      }
      for (const listener of listeners) listener.call(server, socket);
    });
  }

  #admit(socket: Socket): HttpError | undefined {
    const { maxConnections, maxPerClient, proxies } = this.#options;
    if (this.#open >= maxConnections) {
      this.#options.onRefused?.('total');
      return new HttpError(
        503,
        'server-busy',
        `the server holds ${maxConnections} connections, the most it takes; retry shortly`,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    }
    const address = socket.remoteAddress ?? 'unknown';
    const counted = maxPerClient > 0 && !proxies.has(address);
    const key = counted ? clientKey(address) : undefined;
    if (key !== undefined) {
      const held = this.#perClient.get(key) ?? 0;
      if (held >= maxPerClient) {
        this.#options.onRefused?.('client');
        return new HttpError(
          503,
          'too-many-connections',
          `this client address holds ${held} connections, the most one client may hold; close some and retry`,
          { 'Retry-After': RETRY_AFTER_SECONDS },
        );
      }
      this.#perClient.set(key, held + 1);
    }
    this.#open++;
    socket.once('close', () => {
      this.#open--;
      if (key === undefined) return;
      const held = (this.#perClient.get(key) ?? 1) - 1;
      if (held > 0) this.#perClient.set(key, held);
      else this.#perClient.delete(key);
    });
    return undefined;
  }
}
