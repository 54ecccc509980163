/**
 * A Server-Sent Events body that never buffers for a slow client: it hands a frame on only when
 * the response pulls one, keeps at most the newest frame while it does not, and gives up on a
 * client that has not taken a waiting frame for `stallMs`.
 *
 * Why: a live client only needs the newest top (each `top` event carries the whole body), and
 * a client that does not read must not make the process hold every update since it stopped. On
 * `@hono/node-server` the response pulls the next chunk only after Node's socket accepted the
 * last one without passing its high-water mark (it waits for `drain` otherwise), so what the
 * process holds per stream is bounded by that mark (16 KiB), one frame in Node's buffer and one
 * waiting here; frames are shared between the streams of the same top (`topFrame`). Issue 15
 * measured 1,000 non-reading streams growing the process by ~240 MB in 45 s with the previous
 * route, which queued one promise per snapshot change per stream and never released them.
 */
import type { SerializedTop } from './topBodyCache.js';

export type SseCloseReason = 'closed' | 'stalled';

export interface SseStreamOptions {
  /** How long a frame may wait for the client to take it before the stream is dropped, ms. */
  stallMs: number;
  /** Called once when the stream ends: the client went away (`closed`) or stopped reading (`stalled`). */
  onClose?: (reason: SseCloseReason) => void;
}

const HEARTBEAT = new TextEncoder().encode(': heartbeat\n\n');

/** Encoded `top` frames, one per serialized top, shared by every stream that sends it. */
const frames = new WeakMap<SerializedTop, Uint8Array>();

/**
 * The SSE frame of a `top` event carrying `top`'s body (`event`, `data` and `id` lines, as
 * Hono's `writeSSE` writes them; the body is JSON, so it is one line).
 *
 * @example
 * stream.send(topFrame(await cachedTop(services, board, window, k)));
 */
export function topFrame(top: SerializedTop): Uint8Array {
  let frame = frames.get(top);
  if (!frame) {
    frame = Buffer.from(`event: top\ndata: ${top.json}\nid: ${top.version}\n\n`, 'utf8');
    frames.set(top, frame);
  }
  return frame;
}

/**
 * @example
 * const stream = new SseStream({ stallMs: 10_000, onClose: () => stopListening() });
 * stream.send(topFrame(top));
 * return c.body(stream.body, 200, { 'Content-Type': 'text/event-stream' });
 */
export class SseStream {
  /** The response body. */
  readonly body: ReadableStream<Uint8Array>;
  readonly #options: SseStreamOptions;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** The newest frame the client has not taken yet. */
  #waiting: Uint8Array | undefined;
  /** Whether the response asked for a frame that was not there (it takes the next at once). */
  #wanted = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SseStreamOptions) {
    this.#options = options;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => {
          if (this.#waiting === undefined) {
            this.#wanted = true;
            return;
          }
          const frame = this.#waiting;
          this.#waiting = undefined;
          this.#clearStall();
          this.#controller.enqueue(frame);
        },
        cancel: () => this.#end('closed'),
      },
      // Nothing is queued ahead of the response's own reads.
      { highWaterMark: 0 },
    );
  }

  /** Whether the stream has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a frame is waiting for the client (it has not read the previous ones yet). */
  get backlogged(): boolean {
    return this.#waiting !== undefined;
  }

  /** Sends `frame` now if the client is ready, else keeps it in place of any frame waiting. */
  send(frame: Uint8Array): void {
    if (this.#closed) return;
    if (this.#wanted) {
      this.#wanted = false;
      this.#controller.enqueue(frame);
      return;
    }
    this.#waiting = frame;
    if (this.#stallTimer === undefined) {
      this.#stallTimer = setTimeout(() => this.#stall(), this.#options.stallMs);
      this.#stallTimer.unref();
    }
  }

  /** A heartbeat comment, unless a frame is already waiting (that one shows the stream is alive). */
  heartbeat(): void {
    if (this.#waiting === undefined) this.send(HEARTBEAT);
  }

  /** Ends the stream from the server's side. */
  close(): void {
    if (this.#closed) return;
    this.#end('closed');
    this.#closeBody();
  }

  #stall(): void {
    this.#stallTimer = undefined;
    if (this.#closed) return;
    this.#end('stalled');
    this.#closeBody();
  }

  #end(reason: SseCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = undefined;
    this.#clearStall();
    this.#options.onClose?.(reason);
  }

  #closeBody(): void {
    try {
      this.#controller.close();
    } catch {
      // Already cancelled by the response.
    }
  }

  #clearStall(): void {
    if (this.#stallTimer === undefined) return;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }
}
