/**
 * Helpers the HTTP tests share: requests against the Hono app (no socket) with a key and a JSON
 * body, the contract's error shape, and the partitions' stream lengths (to prove that a rejected
 * request enqueued nothing).
 */
import type { Hono } from 'hono';
import { expect } from 'vitest';
import type { Services } from '../../server/services.js';

export interface CallOptions {
  /** The bearer key; omitted: no Authorization header. */
  key?: string;
  /** A value to send as JSON, or a raw string sent as is. */
  body?: unknown;
  /** Content-Type; default application/json when there is a body. */
  type?: string | null;
  headers?: Record<string, string>;
}

/** One request through `app.request`, with the key and body of `options`. */
export async function call(
  app: Hono,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.Authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const type = options.type === undefined ? 'application/json' : options.type;
    if (type !== null) headers['Content-Type'] = type;
  }
  return app.request(path, { method, headers, body });
}

/**
 * Asserts the contract's error answer: the status, the kebab-case code, and a body that is exactly
 * `{"error": {"code", "message"}}` with a message a person can read. Returns the message.
 */
export async function expectError(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(body.error.code).toMatch(/^[a-z]+(-[a-z]+)*$/);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(5);
  return body.error.message;
}

/** Every partition's input stream length, in partition order. */
export async function streamLengths(services: Services): Promise<number[]> {
  return (await services.admin.groupInfo()).map((p) => p.length);
}

/** The sum of the partitions' stream lengths. */
export async function enqueued(services: Services): Promise<number> {
  return (await streamLengths(services)).reduce((a, b) => a + b, 0);
}

/**
 * Runs a request that must be rejected and asserts that the streams did not grow.
 *
 * @example
 * await expectNothingEnqueued(services, () => call(app, 'POST', '/v1/events', { body: {} }));
 */
export async function expectNothingEnqueued(
  services: Services,
  send: () => Promise<Response>,
): Promise<Response> {
  const before = await streamLengths(services);
  const res = await send();
  expect(await streamLengths(services)).toEqual(before);
  return res;
}
