/**
 * A TCP relay between a client and Redis that can hold bytes and later deliver them in order:
 * both ways (a partitioned or stuck link: what a client sent just before the stall reaches Redis
 * only after it), or only Redis' replies (the commands run at once, their answers arrive late).
 */
import { createServer, type Server, Socket } from 'node:net';

export type StallDirection = 'both' | 'replies';

export class StallableLink {
  private stalled: StallDirection | undefined;
  private armed: ((request: Buffer) => boolean) | undefined;
  private readonly pairs = new Set<{ flush: () => void; destroy: () => void }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /**
   * @example
   * const link = await StallableLink.open(new URL(redisUrl()));
   * const redis = new Redis(link.port, '127.0.0.1');
   */
  static async open(target: URL): Promise<StallableLink> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const link = new StallableLink(server, typeof address === 'object' && address ? address.port : 0);
    server.on('connection', (client) => link.relay(client, target));
    return link;
  }

  private relay(client: Socket, target: URL): void {
    const upstream = new Socket();
    const held: [Socket, Buffer][] = [];
    const forward = (to: Socket, isReply: boolean) => (data: Buffer) => {
      if (!isReply && this.armed?.(data)) {
        this.armed = undefined;
        to.write(data);
        this.stalled = 'replies';
        return;
      }
      // Once anything is held, everything after it in that direction waits too (order is kept).
      const holding =
        this.stalled === 'both' ||
        (this.stalled === 'replies' && isReply) ||
        held.some(([heldTo]) => heldTo === to);
      if (holding) held.push([to, data]);
      else to.write(data);
    };
    const pair = {
      flush: () => {
        for (const [to, data] of held.splice(0)) to.write(data);
      },
      destroy: () => {
        client.destroy();
        upstream.destroy();
      },
    };
    this.pairs.add(pair);
    client.on('data', forward(upstream, false));
    upstream.on('data', forward(client, true));
    const close = () => {
      this.pairs.delete(pair);
      pair.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
    upstream.connect(Number(target.port), target.hostname);
  }

  /** Holds bytes from now on: both ways (default), or only Redis' replies. */
  stall(direction: StallDirection = 'both'): void {
    this.stalled = direction;
  }

  /**
   * Holds Redis' replies from the first request that `match` recognises on: that request and
   * what follows run at once, their answers wait for `resume()`.
   */
  stallRepliesFrom(match: (request: Buffer) => boolean): void {
    this.armed = match;
  }

  /** Delivers what was held, in order, and stops holding. */
  resume(): void {
    this.stalled = undefined;
    this.armed = undefined;
    for (const pair of this.pairs) pair.flush();
  }

  close(): void {
    for (const pair of this.pairs) pair.destroy();
    this.server.close();
  }
}
