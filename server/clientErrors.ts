/**
 * Node's `clientError` answers in the contract's shape: a request whose headers or body did not
 * arrive in time (`HEADERS_TIMEOUT_MS`, `REQUEST_TIMEOUT_MS`), headers over Node's 16 KiB, or
 * bytes that are not HTTP. Node would answer these with an empty 408, 431, 413 or 400; the contract
 * promises a JSON error with every status.
 */
import type { Socket } from 'node:net';
import { HttpError } from './httpError.js';
import { rawErrorResponse } from './rawResponse.js';

/**
 * The answer to a client error, by Node's error code (Node's own answers, with bodies).
 *
 * @example
 * clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT').status; // 408
 */
export function clientErrorAnswer(code: string | undefined): HttpError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError(
        408,
        'request-timeout',
        'the request (its headers, or its headers and body) did not arrive in time; send it faster',
      );
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError(431, 'headers-too-large', 'the request headers are larger than 16 KiB');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new HttpError(
        413,
        'payload-too-large',
        'the chunk extensions of the body are larger than 16 KiB',
      );
    default:
      return new HttpError(400, 'bad-request', 'the request is not valid HTTP/1.1');
  }
}

/**
 * The server's `clientError` listener: as Node's own, it answers only when nothing of a response
 * has been written on the socket yet (else the answer would corrupt it), then destroys the socket.
 *
 * @example
 * server.on('clientError', onClientError);
 */
export function onClientError(error: Error & { code?: string }, socket: Socket): void {
  // The response in flight on this socket, if any (Node's own check reads the same field).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent && error.code !== 'ECONNRESET') {
    socket.end(rawErrorResponse(clientErrorAnswer(error.code)));
  }
  socket.destroy();
}
