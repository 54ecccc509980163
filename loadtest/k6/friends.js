/**
 * friends: set-up gives users friend lists through the API (PUT /v1/users/:userId/friends, the
 * friends are seeded users), then friends-ranking reads
 * (GET /v1/boards/:board/users/:userId/friends) with some ingest so the scores keep moving.
 * The numbers are in scenarios.json ("friends").
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e API_KEY=<key> loadtest/k6/friends.js
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { optionsFor, prepare, sendFromMix } from './common.js';

const TEST = 'friends';

export const options = optionsFor(TEST);

export function setup() {
  return prepare(TEST);
}

export function traffic() {
  const sent = sendFromMix(TEST, exec.scenario.name);
  check(sent.response, sent.checks, { kind: sent.kind });
}
