/** The service a run loads, and the keys its requests carry. */
import type { PlannedRequest } from './definition.js';

export interface Target {
  /** Base URL, e.g. http://127.0.0.1:3000 (no trailing slash). */
  url: string;
  /** A key with the ingest scope (and admin, to create the load-test board). */
  apiKey: string;
  /** A key with the read scope for reads; unset: reads are sent without a key. */
  readKey?: string;
}

/** Headers of a request that needs the `ingest` or the `read` key, with or without a JSON body. */
export function requestHeaders(
  target: Target,
  key: PlannedRequest['key'],
  withBody: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (withBody) headers['content-type'] = 'application/json';
  const value = key === 'ingest' ? target.apiKey : target.readKey;
  if (value) headers.authorization = `Bearer ${value}`;
  return headers;
}
