import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type SseCloseReason, SseStream, topFrame } from './sseStream.js';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const frame = (s: string) => new TextEncoder().encode(s);

describe('SseStream', () => {
  let closed: SseCloseReason[];
  let stream: SseStream;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  beforeEach(() => {
    vi.useFakeTimers();
    closed = [];
    stream = new SseStream({ stallMs: 1000, onClose: (reason) => closed.push(reason) });
    reader = stream.body.getReader();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands a frame to a waiting reader at once', async () => {
    const read = reader.read();
    await vi.advanceTimersByTimeAsync(0);
    stream.send(frame('a'));
    expect(text((await read).value)).toBe('a');
  });

  it('keeps only the newest frame while the reader does not read, and hands it on when it does', async () => {
    stream.send(frame('v1'));
    stream.send(frame('v2'));
    stream.send(frame('v3'));
    expect(stream.backlogged).toBe(true);
    expect(text((await reader.read()).value)).toBe('v3');
    expect(stream.backlogged).toBe(false);
    const next = reader.read();
    await vi.advanceTimersByTimeAsync(0);
    stream.send(frame('v4'));
    expect(text((await next).value)).toBe('v4');
  });

  it('drops a reader that leaves a frame waiting for stallMs, and calls onClose once with stalled', async () => {
    stream.send(frame('v1'));
    await vi.advanceTimersByTimeAsync(999);
    expect(stream.closed).toBe(false);
    // Newer frames do not restart the clock: the reader has not taken anything.
    stream.send(frame('v2'));
    await vi.advanceTimersByTimeAsync(1);
    expect(stream.closed).toBe(true);
    expect(closed).toEqual(['stalled']);
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    stream.send(frame('v3'));
    expect(closed).toEqual(['stalled']);
  });

  it('does not drop a reader that keeps taking frames, however long it runs', async () => {
    for (let i = 0; i < 10; i++) {
      stream.send(frame(`v${i}`));
      await vi.advanceTimersByTimeAsync(900);
      expect(text((await reader.read()).value)).toBe(`v${i}`);
    }
    expect(stream.closed).toBe(false);
  });

  it('sends a heartbeat only when nothing waits, and an update replaces a waiting heartbeat', async () => {
    stream.heartbeat();
    stream.send(frame('update'));
    stream.heartbeat();
    expect(text((await reader.read()).value)).toBe('update');
    stream.heartbeat();
    expect(text((await reader.read()).value)).toBe(': heartbeat\n\n');
  });

  it('reports closed when the reader cancels (the client went away), and sends nothing after', async () => {
    await reader.cancel();
    expect(closed).toEqual(['closed']);
    stream.send(frame('late'));
    await vi.advanceTimersByTimeAsync(5000);
    expect(closed).toEqual(['closed']);
  });

  it('ends the body when the server closes it', async () => {
    stream.close();
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    expect(closed).toEqual(['closed']);
  });
});

describe('topFrame', () => {
  it('is the top event as Hono writes it, encoded once per serialized top', () => {
    const top = { version: 7, json: '{"entries":[]}', bytes: new Uint8Array() };
    const first = topFrame(top);
    expect(text(first)).toBe('event: top\ndata: {"entries":[]}\nid: 7\n\n');
    expect(topFrame(top)).toBe(first);
    expect(topFrame({ ...top })).not.toBe(first);
  });
});
