/**
 * Answers written straight to a socket, for the refusals decided before Node's HTTP parser has a
 * request to answer (a connection over its cap, a request that timed out or did not parse), in
 * the contract's JSON error shape, and closing the connection.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpError } from './httpError.js';

/** How long a refused socket may take to read its answer before it is destroyed, ms. */
const CLOSE_AFTER_MS = 1000;

/**
 * The bytes of an HTTP/1.1 answer to `error`, with `Connection: close`.
 *
 * @example
 * socket.end(rawErrorResponse(new HttpError(408, 'request-timeout', 'too slow')));
 */
export function rawErrorResponse(error: HttpError): string {
  const body = JSON.stringify(error.toJSON());
  const headers = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(error.headers).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Writes the answer to `error` and closes the socket: what the client sent is read and dropped
 * (closing a socket with unread input resets it, and the client might lose the answer), and the
 * socket is destroyed once the client closes its side or after a second at most, so a refused
 * client holds no file descriptor.
 *
 * @example
 * refuseSocket(socket, new HttpError(503, 'server-busy', 'the server holds too many connections'));
 */
export function refuseSocket(socket: Socket, error: HttpError): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), CLOSE_AFTER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.destroy());
  socket.resume();
  socket.end(rawErrorResponse(error));
}
