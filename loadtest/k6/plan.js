/**
 * The load scenarios as plain functions over the definition in `scenarios.json`: which requests a
 * scenario sends (method, path, body), what a good answer is (the checks), the seed data and
 * friend lists, and how a definition becomes k6 options, scaled or not.
 *
 * It imports nothing and uses nothing but the language, so two runners share it: the k6 scripts
 * of this folder import it, and `npm run loadtest` (loadtest/loadtest.ts) loads the same file
 * when k6 is not installed and drives the same requests with autocannon. Its types are in
 * `plan.d.ts`.
 *
 * Syntax: nothing newer than k6 before v0.53 could parse (its Babel rejects `?.`, `??`, object
 * spread, `catch` without a binding, numeric separators), so that an old k6 reaches the version
 * check of common.js and says what it needs instead of failing on a SyntaxError.
 */

/** The request kinds a scenario's `mix` can weigh, and the tag (`kind`) of their metrics. */
export const REQUEST_KINDS = ['ingest', 'batch', 'top', 'rank', 'friends'];

/** The tag of live (SSE) requests; they have their own metrics, not `http_req_failed`. */
export const LIVE_KIND = 'live';

/** The tag of the freshness probes' marker events (a single event of a fresh user). */
export const MARKER_KIND = 'marker';

/**
 * Custom metrics, named alike in both runners: of the live listeners (a Rate and a Counter) and
 * of the freshness probes (a Rate: the marker showed in a `top` event of its window; a Trend, ms:
 * the marker's send time to the `updatedAt` of the first `top` event listing it).
 */
export const LIVE_METRICS = {
  streamsOk: 'live_streams_ok',
  updates: 'live_updates',
  markersSeen: 'live_markers_seen',
  freshness: 'live_freshness',
};

/** The executors the scenarios use, and the exec functions each one may run. */
export const EXECUTORS = {
  'ramping-arrival-rate': ['traffic'],
  'constant-arrival-rate': ['traffic'],
  'constant-vus': ['listen', 'mark'],
};

/** The oldest k6 the scripts run on (common.js checks it in setup()); see the README. */
export const MIN_K6_VERSION = '1.0.0';

/**
 * The shortest listening window DURATION_SCALE makes (a window given shorter stays as given):
 * below it a window would mostly measure its own connection set-up.
 */
const MIN_WINDOW_MS = 2000;

/** The shortest `duration` k6 accepts for constant-vus and constant-arrival-rate scenarios. */
const MIN_K6_DURATION_MS = 1000;

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
  if (test.maxDropped !== undefined && !(test.maxDropped >= 0 && test.maxDropped <= 1)) {
    throw new Error(`${name}: maxDropped is a share of the planned requests, from 0 to 1`);
  }
  for (const [scenarioName, scenario] of Object.entries(test.scenarios)) {
    const where = `${name}.${scenarioName}`;
    const execs = EXECUTORS[scenario.executor];
    if (!execs) {
      throw new Error(
        `${where}: executor '${scenario.executor}' is not one of ${Object.keys(EXECUTORS).join(', ')}`,
      );
    }
    if (!execs.includes(scenario.exec))
      throw new Error(`${where}: a ${scenario.executor} scenario runs exec ${execs.join(' or ')}`);
    const exec = scenario.exec;
    if (exec === 'listen') {
      if (!scenario.listen || !scenario.vus || !scenario.duration) {
        throw new Error(`${where}: a listen scenario needs vus, duration and listen`);
      }
      continue;
    }
    if (exec === 'mark') {
      checkMarkScenario(definition, where, scenario);
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

function checkMarkScenario(definition, where, scenario) {
  if (!scenario.listen || !scenario.vus || !scenario.duration || !scenario.markAfter) {
    throw new Error(`${where}: a mark scenario needs vus, duration, listen and markAfter`);
  }
  if (parseDuration(scenario.markAfter) >= parseDuration(scenario.listen)) {
    throw new Error(`${where}: markAfter must be shorter than the listening window (listen)`);
  }
  // Every marker outranks the ones before it: more markers in flight than the live stream's
  // top-K holds could push one out before its window sees it.
  if (scenario.vus > definition.requests.topK) {
    throw new Error(`${where}: at most requests.topK (${definition.requests.topK}) marker VUs`);
  }
}

function scaleRate(value, factor) {
  if (value === undefined) return undefined;
  return value === 0 ? 0 : Math.max(1, Math.round(value * factor));
}

function scaleTime(text, factor) {
  return text === undefined ? undefined : formatDuration(parseDuration(text) * factor);
}

/**
 * A test with its durations multiplied by `scales.duration` (stages, durations, start times,
 * listening windows) and its rates and VUs by `scales.rate`; both default to 1. A listening
 * window is not made shorter than 2 s (one given shorter stays as given), a scenario's `duration`
 * not shorter than 1 s (k6's minimum); `markAfter` and the freshness probes' VUs stay as given
 * (they measure, they are not load).
 */
export function scaledTest(definition, name, scales = {}) {
  const duration = scales.duration || 1;
  const rate = scales.rate || 1;
  const test = JSON.parse(JSON.stringify(testOf(definition, name)));
  for (const scenario of Object.values(test.scenarios)) {
    for (const key of ['duration', 'startTime', 'gracefulStop']) {
      if (scenario[key] !== undefined) scenario[key] = scaleTime(scenario[key], duration);
    }
    if (scenario.duration !== undefined && duration < 1) {
      scenario.duration = formatDuration(Math.max(parseDuration(scenario.duration), MIN_K6_DURATION_MS));
    }
    if (scenario.listen !== undefined) {
      const listen = parseDuration(scenario.listen);
      scenario.listen = formatDuration(Math.max(listen * duration, Math.min(listen, MIN_WINDOW_MS)));
    }
    const scaled = ['rate', 'startRate', 'preAllocatedVUs', 'maxVUs'];
    if (scenario.exec !== 'mark') scaled.push('vus');
    for (const key of scaled) {
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

/**
 * Requests a test's arrival-rate scenarios plan to start (k6 iterations): rate x time, a ramping
 * stage ramping linearly from the previous target (or startRate) to its own, as in k6.
 */
export function plannedIterations(test) {
  let total = 0;
  for (const scenario of Object.values(test.scenarios)) {
    if (scenario.exec !== 'traffic') continue;
    const unit = parseDuration(scenario.timeUnit || '1s');
    if (scenario.executor === 'constant-arrival-rate') {
      total += (scenario.rate * parseDuration(scenario.duration)) / unit;
      continue;
    }
    let from = scenario.startRate || 0;
    for (const stage of scenario.stages) {
      total += (((from + stage.target) / 2) * parseDuration(stage.duration)) / unit;
      from = stage.target;
    }
  }
  return total;
}

/**
 * The thresholds a run of a test is judged by: the definition's, and `dropped_iterations`: at most
 * `maxDropped` (default 0) of the planned requests may go unsent (k6 drops an iteration when no VU
 * is free at its start time; the autocannon runner counts requests short of the plan).
 */
export function testThresholds(test) {
  const thresholds = JSON.parse(JSON.stringify(test.thresholds));
  const planned = plannedIterations(test);
  if (planned > 0) {
    const budget = Math.floor((test.maxDropped || 0) * planned);
    thresholds.dropped_iterations = (thresholds.dropped_iterations || []).concat([`count<=${budget}`]);
  }
  return thresholds;
}

/** The `kind` tags of a test's requests: its mixes' kinds, then `marker` and `live` if it has those. */
export function testKinds(test) {
  const kinds = [];
  const add = (kind) => {
    if (!kinds.includes(kind)) kinds.push(kind);
  };
  const scenarios = Object.values(test.scenarios);
  for (const scenario of scenarios) for (const kind of Object.keys(scenario.mix || {})) add(kind);
  if (scenarios.some((s) => s.exec === 'mark')) add(MARKER_KIND);
  if (scenarios.some((s) => s.exec === 'listen' || s.exec === 'mark')) add(LIVE_KIND);
  return kinds;
}

/**
 * The thresholds as k6 gets them. A `http_req_duration` threshold without a kind tag becomes one
 * per request kind (live windows excepted: their duration is the listening time), as the
 * autocannon runner judges it; k6's own untagged metric would take in the live windows. Every kind
 * gets its `http_req_duration{kind:...}` entry, and every traffic scenario its
 * `dropped_iterations{scenario:...}`, empty when nothing judges them, so that k6's summary shows
 * each kind's durations and each scenario's drops beside the overall lines.
 */
function k6Thresholds(test) {
  const thresholds = testThresholds(test);
  const untagged = thresholds.http_req_duration;
  delete thresholds.http_req_duration;
  for (const kind of testKinds(test)) {
    const key = `http_req_duration{kind:${kind}}`;
    const own = thresholds[key] || [];
    thresholds[key] = untagged && kind !== LIVE_KIND ? own.concat(untagged) : own;
  }
  for (const [name, scenario] of Object.entries(test.scenarios)) {
    const key = `dropped_iterations{scenario:${name}}`;
    if (scenario.exec === 'traffic') thresholds[key] = thresholds[key] || [];
  }
  return thresholds;
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
    thresholds: k6Thresholds(test),
    // setup() seeds the board and waits until the workers applied it.
    setupTimeout: formatDuration(parseDuration(definition.data.readyTimeout) + 60000),
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
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
  const expected =
    kind === MARKER_KIND
      ? markerRequest(definition, 'x', 0).status
      : buildRequest(kind, definition, () => 0).status;
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
    case 'marker':
      return Object.assign(status, { 'marker: accepted 1': (_, body) => !!body && body.accepted === 1 });
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

/**
 * The marker event of a freshness probe: a fresh user (`marker-<sentAt>-<tag>`, `tag` unique per
 * window, e.g. VU and iteration) whose value is its send time in epoch ms. That is far above any
 * score the load gives a seeded user and above every earlier marker, so the marker takes rank 1.
 */
export function markerRequest(definition, tag, sentAt) {
  const path = `/v1/boards/${definition.board.id}/events`;
  const userId = `marker-${sentAt}-${tag}`;
  const body = JSON.stringify({ userId, value: sentAt });
  return { kind: MARKER_KIND, method: 'POST', path, name: path, body, key: 'ingest', status: 202, userId };
}

/**
 * The complete events of a piece of an SSE stream, in order: `{ event, id, data }` (`event`
 * defaults to 'message', data lines joined by newlines). Comments (the heartbeats) and an event
 * cut off at the end of the piece are left out.
 */
export function sseEvents(text) {
  const blocks = String(text || '')
    .replace(/\r\n?/g, '\n')
    .split('\n\n');
  blocks.pop(); // after the last blank line: an event still arriving, or nothing
  const events = [];
  for (const block of blocks) {
    let event = 'message';
    let id = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.charAt(0) === ':') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.charAt(0) === ' ') value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, id, data: data.join('\n') });
  }
  return events;
}

/**
 * Where a marker first shows among the events of its listening window: `index`, the position in
 * `events` of the first `top` event listing the user (-1: none); `inFirst`, whether that is the
 * window's first `top` event (the snapshot sent at connection: the stream connected too late to
 * see when the marker appeared); `appearedAt`, that event's `updatedAt` (server clock); and
 * `freshnessMs`, appearedAt - sentAt (NaN when not seen).
 */
export function markerSighting(events, userId, sentAt) {
  let tops = 0;
  for (let index = 0; index < events.length; index++) {
    if (events[index].event !== 'top') continue;
    tops++;
    let body = null;
    try {
      body = JSON.parse(events[index].data);
    } catch (_) {
      body = null;
    }
    const entries = body && Array.isArray(body.entries) ? body.entries : [];
    if (entries.some((entry) => entry.userId === userId) && typeof body.updatedAt === 'number') {
      return { index, inFirst: tops === 1, appearedAt: body.updatedAt, freshnessMs: body.updatedAt - sentAt };
    }
  }
  return { index: -1, inFirst: false, appearedAt: null, freshnessMs: Number.NaN };
}

function versionParts(text) {
  const match = /k6\/v?(\d+)\.(\d+)\.(\d+)/.exec(String(text || ''));
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

/**
 * Why the k6 that sent a request with this User-Agent cannot run the scripts (it is older than
 * MIN_K6_VERSION), or null: new enough, or no version in it (a custom --user-agent; the check
 * then cannot tell). k6 has no version in its JavaScript API; its default User-Agent carries it:
 * 'Grafana k6/1.3.0' (before v1.0: 'k6/0.48.0 (https://k6.io/)').
 */
export function k6VersionProblem(userAgent) {
  const found = versionParts(userAgent);
  if (!found) return null;
  const needed = versionParts(`k6/${MIN_K6_VERSION}`);
  for (let i = 0; i < 3; i++) {
    if (found[i] > needed[i]) return null;
    if (found[i] < needed[i]) {
      return (
        `these scripts need k6 v${MIN_K6_VERSION} or newer; this is k6 v${found.join('.')} ` +
        '(see "Load testing" in the README)'
      );
    }
  }
  return null;
}
