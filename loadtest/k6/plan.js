/**
 * The load scenarios as plain functions over the definition in `scenarios.json`: which requests a
 * scenario sends (method, path, body), what a good answer is (the checks), the seed data and
 * friend lists, and how a definition becomes k6 options, scaled or not.
 *
 * It imports nothing and uses nothing but the language, so two runners share it: the k6 scripts
 * of this folder import it, and `npm run loadtest` (loadtest/loadtest.ts) loads the same file
 * when k6 is not installed and drives the same requests with autocannon. Its types are in
 * `plan.d.ts`.
 */

/** The request kinds a scenario's `mix` can weigh, and the tag (`kind`) of their metrics. */
export const REQUEST_KINDS = ['ingest', 'batch', 'top', 'rank', 'friends'];

/** The tag of live (SSE) requests; they have their own metrics, not `http_req_failed`. */
export const LIVE_KIND = 'live';

/** Custom metrics of the live listeners (a Rate and a Counter), named alike in both runners. */
export const LIVE_METRICS = { streamsOk: 'live_streams_ok', updates: 'live_updates' };

/** The executors the scenarios use, and the exec function each one runs. */
export const EXECUTORS = {
  'ramping-arrival-rate': 'traffic',
  'constant-arrival-rate': 'traffic',
  'constant-vus': 'listen',
};

const K6_SCENARIO_KEYS = [
  'executor',
  'exec',
  'startTime',
  'gracefulStop',
  'timeUnit',
  'startRate',
  'rate',
  'duration',
  'stages',
  'preAllocatedVUs',
  'maxVUs',
  'vus',
  'tags',
  'env',
];

// Plain number literals (no numeric separators) and no object spread: k6's JavaScript runtime
// (Sobek) is the one that has to read this file too.
const UNITS = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/** Milliseconds of a k6 duration: '500ms', '10s', '1m30s', '2h'. */
export function parseDuration(text) {
  const source = String(text).trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(source)) {
    throw new Error(`invalid duration '${text}' (expected e.g. 500ms, 10s, 1m30s)`);
  }
  let total = 0;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  for (let match = part.exec(source); match; match = part.exec(source)) {
    total += Number(match[1]) * UNITS[match[2]];
  }
  return total;
}

/** A duration in milliseconds as k6 notation ('1500ms'); at least 1 ms. */
export function formatDuration(ms) {
  return `${Math.max(1, Math.round(ms))}ms`;
}

/** The definition of one test (e.g. 'read-heavy'), checked; throws naming what is wrong. */
export function testOf(definition, name) {
  const test = definition.tests[name];
  if (!test) {
    throw new Error(
      `unknown scenario '${name}'; the scenarios are: ${Object.keys(definition.tests).join(', ')}`,
    );
  }
  for (const [scenarioName, scenario] of Object.entries(test.scenarios)) {
    const where = `${name}.${scenarioName}`;
    const exec = EXECUTORS[scenario.executor];
    if (!exec) {
      throw new Error(
        `${where}: executor '${scenario.executor}' is not one of ${Object.keys(EXECUTORS).join(', ')}`,
      );
    }
    if (scenario.exec !== exec)
      throw new Error(`${where}: a ${scenario.executor} scenario runs exec '${exec}'`);
    if (exec === 'listen') {
      if (!scenario.listen || !scenario.vus || !scenario.duration) {
        throw new Error(`${where}: a listen scenario needs vus, duration and listen`);
      }
      continue;
    }
    const kinds = Object.keys(scenario.mix || {});
    if (kinds.length === 0) throw new Error(`${where}: mix names no request kind`);
    for (const kind of kinds) {
      if (!REQUEST_KINDS.includes(kind)) {
        throw new Error(`${where}: request kind '${kind}' is not one of ${REQUEST_KINDS.join(', ')}`);
      }
      if (!(scenario.mix[kind] > 0)) throw new Error(`${where}: the weight of '${kind}' must be above 0`);
    }
    if (scenario.executor === 'ramping-arrival-rate' && !(scenario.stages && scenario.stages.length > 0)) {
      throw new Error(`${where}: ramping-arrival-rate needs stages`);
    }
    if (scenario.executor === 'constant-arrival-rate' && !(scenario.rate > 0 && scenario.duration)) {
      throw new Error(`${where}: constant-arrival-rate needs rate and duration`);
    }
  }
  return test;
}

function scaleRate(value, factor) {
  if (value === undefined) return undefined;
  return value === 0 ? 0 : Math.max(1, Math.round(value * factor));
}

function scaleTime(text, factor) {
  return text === undefined ? undefined : formatDuration(parseDuration(text) * factor);
}

/**
 * A test with its durations multiplied by `scales.duration` (stages, durations, start times) and
 * its rates and VUs by `scales.rate`; both default to 1.
 */
export function scaledTest(definition, name, scales) {
  const duration = scales?.duration || 1;
  const rate = scales?.rate || 1;
  const test = JSON.parse(JSON.stringify(testOf(definition, name)));
  for (const scenario of Object.values(test.scenarios)) {
    for (const key of ['duration', 'startTime', 'gracefulStop']) {
      if (scenario[key] !== undefined) scenario[key] = scaleTime(scenario[key], duration);
    }
    // A listening window is not scaled, only kept within its scenario: shorter, a listener would
    // measure its own connection set-up rather than the stream.
    if (scenario.listen !== undefined && scenario.duration !== undefined) {
      scenario.listen = formatDuration(
        Math.min(parseDuration(scenario.listen), parseDuration(scenario.duration)),
      );
    }
    for (const key of ['rate', 'startRate', 'preAllocatedVUs', 'maxVUs', 'vus']) {
      if (scenario[key] !== undefined) scenario[key] = scaleRate(scenario[key], rate);
    }
    if (scenario.stages) {
      scenario.stages = scenario.stages.map((stage) => ({
        duration: scaleTime(stage.duration, duration),
        target: scaleRate(stage.target, rate),
      }));
    }
  }
  return test;
}

/** Seconds from the first request of a test to the end of its last scenario. */
export function testSeconds(test) {
  let end = 0;
  for (const scenario of Object.values(test.scenarios)) {
    const start = scenario.startTime ? parseDuration(scenario.startTime) : 0;
    const length = scenario.stages
      ? scenario.stages.reduce((sum, stage) => sum + parseDuration(stage.duration), 0)
      : parseDuration(scenario.duration);
    end = Math.max(end, start + length);
  }
  return end / 1000;
}

/** The k6 `options` of a test: its scenarios (k6 keys only), thresholds and timeouts. */
export function k6Options(definition, name, scales) {
  const test = scaledTest(definition, name, scales);
  const scenarios = {};
  for (const [scenarioName, scenario] of Object.entries(test.scenarios)) {
    const k6Scenario = {};
    for (const key of K6_SCENARIO_KEYS) if (scenario[key] !== undefined) k6Scenario[key] = scenario[key];
    scenarios[scenarioName] = k6Scenario;
  }
  return {
    scenarios,
    thresholds: test.thresholds,
    // setup() seeds the board and waits until the workers applied it.
    setupTimeout: formatDuration(parseDuration(definition.data.readyTimeout) + 60000),
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(99)'],
  };
}

/** Whether a test reads friend rankings (so its set-up uploads friend lists). */
export function needsFriendLists(test) {
  return Object.values(test.scenarios).some((scenario) => scenario.mix && scenario.mix.friends > 0);
}

/** The n-th user of the seeded population. */
export function userId(n) {
  return `u${n}`;
}

function below(limit, random) {
  return Math.min(limit - 1, Math.floor(random() * limit));
}

function value(definition, random) {
  return 1 + below(definition.requests.valueMax, random);
}

/** One request kind picked by the weights of a mix, e.g. { ingest: 3, top: 4, rank: 3 }. */
export function pickKind(mix, random) {
  const kinds = Object.keys(mix);
  const total = kinds.reduce((sum, kind) => sum + mix[kind], 0);
  let left = random() * total;
  for (const kind of kinds) {
    left -= mix[kind];
    if (left < 0) return kind;
  }
  return kinds[kinds.length - 1];
}

/** The `POST /v1/events` bodies that give every user of the population a score. */
export function seedBatches(definition, random) {
  const { users, seedBatchSize } = definition.data;
  const bodies = [];
  for (let start = 0; start < users; start += seedBatchSize) {
    const events = [];
    for (let n = start; n < Math.min(users, start + seedBatchSize); n++) {
      events.push({ board: definition.board.id, userId: userId(n), value: value(definition, random) });
    }
    bodies.push(JSON.stringify({ events }));
  }
  return bodies;
}

/** The friend list of the owner-th user with one (users 0 .. friendLists-1): seeded users, spread out. */
export function friendsOf(definition, owner) {
  const { users, friendsPerUser } = definition.data;
  const friends = [];
  for (let j = 1; j <= friendsPerUser; j++) {
    const friend = (owner * 7919 + j * 104729) % users;
    if (friend !== owner) friends.push(userId(friend));
  }
  return friends;
}

/** The set-up requests of a test that reads friend rankings: PUT /v1/users/:id/friends. */
export function friendListRequests(definition) {
  const requests = [];
  for (let owner = 0; owner < definition.data.friendLists; owner++) {
    requests.push({
      method: 'PUT',
      path: `/v1/users/${userId(owner)}/friends`,
      body: JSON.stringify({ friends: friendsOf(definition, owner) }),
    });
  }
  return requests;
}

/**
 * One request of a kind: method, path, body (a JSON string or null), `name` (the path with ids
 * replaced, to group metrics), the key it needs (`ingest` or `read`) and the status it expects.
 */
export function buildRequest(kind, definition, random) {
  const board = definition.board.id;
  const { window, topK, friendsK, batchSize } = definition.requests;
  const users = definition.data.users;
  switch (kind) {
    case 'ingest': {
      const path = `/v1/boards/${board}/events`;
      const body = JSON.stringify({ userId: userId(below(users, random)), value: value(definition, random) });
      return { kind, method: 'POST', path, name: path, body, key: 'ingest', status: 202 };
    }
    case 'batch': {
      const events = [];
      for (let i = 0; i < batchSize; i++) {
        events.push({ board, userId: userId(below(users, random)), value: value(definition, random) });
      }
      const body = JSON.stringify({ events });
      return {
        kind,
        method: 'POST',
        path: '/v1/events',
        name: '/v1/events',
        body,
        key: 'ingest',
        status: 202,
      };
    }
    case 'top': {
      const path = `/v1/boards/${board}/top?window=${window}&k=${topK}`;
      return { kind, method: 'GET', path, name: path, body: null, key: 'read', status: 200 };
    }
    case 'rank': {
      const path = `/v1/boards/${board}/users/${userId(below(users, random))}?window=${window}`;
      const name = `/v1/boards/${board}/users/:userId?window=${window}`;
      return { kind, method: 'GET', path, name, body: null, key: 'read', status: 200 };
    }
    case 'friends': {
      const owner = userId(below(definition.data.friendLists, random));
      const path = `/v1/boards/${board}/users/${owner}/friends?window=${window}&k=${friendsK}`;
      const name = `/v1/boards/${board}/users/:userId/friends?window=${window}&k=${friendsK}`;
      return { kind, method: 'GET', path, name, body: null, key: 'read', status: 200 };
    }
    default:
      throw new Error(`unknown request kind '${kind}'`);
  }
}

/** The live (SSE) stream of the board's top-K. */
export function liveRequest(definition) {
  const { window, topK } = definition.requests;
  const path = `/v1/boards/${definition.board.id}/live?window=${window}&k=${topK}`;
  return { kind: LIVE_KIND, method: 'GET', path, name: path, body: null, key: 'read', status: 200 };
}

/**
 * The checks of an answer to a request kind, by name: each takes the status and the parsed JSON
 * body (null when it is not JSON) and says whether the answer is right.
 */
export function checksFor(kind, definition) {
  const expected = buildRequest(kind, definition, () => 0).status;
  const status = {};
  status[`${kind}: status ${expected}`] = (code) => code === expected;
  switch (kind) {
    case 'ingest':
      return Object.assign(status, { 'ingest: accepted 1': (_, body) => !!body && body.accepted === 1 });
    case 'batch':
      return Object.assign(status, {
        'batch: accepted every event': (_, body) => !!body && body.accepted === definition.requests.batchSize,
      });
    case 'top':
      return Object.assign(status, {
        'top: has entries': (_, body) => !!body && nonEmptyArray(body.entries),
      });
    case 'rank':
      return Object.assign(status, {
        'rank: ranked': (_, body) => !!body && typeof body.rank === 'number' && body.rank >= 1,
      });
    case 'friends':
      return Object.assign(status, {
        'friends: ranked among friends': (_, body) => !!body && nonEmptyArray(body.entries),
      });
    default:
      throw new Error(`unknown request kind '${kind}'`);
  }
}

function nonEmptyArray(value) {
  return Array.isArray(value) && value.length > 0;
}

/** How many `top` events a piece of an SSE stream holds. */
export function countTopEvents(text) {
  const matches = String(text || '').match(/^event: top\r?$/gm);
  return matches ? matches.length : 0;
}
