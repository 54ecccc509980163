/**
 * steady-mixed: a constant arrival rate of mixed writes and reads: single-event ingest, top-K
 * reads and rank reads of seeded users, weighed by the mix in scenarios.json ("steady-mixed").
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e API_KEY=<key> loadtest/k6/steady-mixed.js
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { optionsFor, prepare, sendFromMix } from './common.js';

const TEST = 'steady-mixed';

export const options = optionsFor(TEST);

export function setup() {
  return prepare(TEST);
}

export function traffic() {
  const sent = sendFromMix(TEST, exec.scenario.name);
  check(sent.response, sent.checks, { kind: sent.kind });
}
