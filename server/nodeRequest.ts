/**
 * Headers and bodies read from the Node request behind a Hono context (`c.env.incoming` on
 * `@hono/node-server`), with a fallback to the web `Request` when there is none (`app.request` in
 * tests, other runtimes).
 *
 * Why: on `@hono/node-server`, `c.req.header()` builds a web `Headers` from the raw header list,
 * and reading the body (or Hono's `bodyLimit`, which wraps it) builds a full web `Request` with an
 * `AbortController` and a `ReadableStream` over the socket: about a sixth of the CPU of a
 * single-event ingest. The Node request already has both.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { HttpError } from './httpError.js';

/** The largest body a route reads, and how the 413 message names it. */
export interface BodyLimit {
  maxBytes: number;
  /** e.g. `64 KiB`: "the body is larger than 64 KiB". */
  label: string;
  /** The most JSON values (and object members) the body may hold (`jsonShape.ts`). */
  maxValues: number;
}

/** The Node request behind the context, when the app runs on `@hono/node-server`. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  return env?.incoming;
}

/**
 * A request header by its lower-case name, read from the Node request when there is one.
 *
 * @example
 * const auth = requestHeader(c, 'authorization');
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = incomingOf(c);
  return incoming ? nodeHeader(incoming, name) : c.req.header(name);
}

/** A header of a Node request by its lower-case name; repeated ones joined as `Headers` joins them. */
export function nodeHeader(incoming: IncomingMessage, name: string): string | undefined {
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** 413: the body is (or says it is) larger than `limit`. */
export function tooLarge(limit: BodyLimit): HttpError {
  return new HttpError(413, 'payload-too-large', `the body is larger than ${limit.label}`);
}

/**
 * The request body as text (UTF-8, a leading byte order mark dropped as `Request.text()` drops
 * it), or 413 as soon as the bytes received pass `limit`, without buffering the rest. A declared
 * `Content-Length` over the limit is refused before this is called (`jsonHeadersRefusal`).
 *
 * @example
 * const text = await readBody(c, SMALL_BODY);
 */
export function readBody(c: Context, limit: BodyLimit): Promise<string> {
  // Not async (it runs on every write): the body's own promise is handed on, decoded.
  const incoming = incomingOf(c);
  return incoming ? readIncoming(incoming, limit) : readWebBody(c.req.raw.body, limit).then(decodeUtf8);
}

/**
 * Reads a Node request to its end as text, counting bytes as they arrive. Past the limit it stops
 * listening and rejects; `@hono/node-server` drains (or closes) what is left after the answer.
 */
export function readIncoming(incoming: IncomingMessage, limit: BodyLimit): Promise<string> {
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit.maxBytes) {
        cleanup();
        incoming.pause();
        reject(tooLarge(limit));
        return;
      }
      if (first === undefined) first = chunk;
      else if (chunks === undefined) chunks = [first, chunk];
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(decodeUtf8(chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0))));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new HttpError(400, 'incomplete-body', `the body could not be read: ${error.message}`));
    };
    const onClose = () => {
      cleanup();
      reject(new HttpError(400, 'incomplete-body', 'the connection closed before the body ended'));
    };
    if (incoming.readableEnded) {
      resolve('');
      return;
    }
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** The same for a web body stream (no Node request): stops and cancels the stream past the limit. */
async function readWebBody(body: ReadableStream<Uint8Array> | null, limit: BodyLimit): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit.maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

function decodeUtf8(bytes: Buffer): string {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString('utf8', bom ? 3 : 0);
}
