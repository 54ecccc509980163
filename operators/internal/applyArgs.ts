/**
 * The one argument builder of the apply script (`applyState-n.lua`), for both of its modes: a
 * worker's live batch (fenced, checkpointed, mirrored into a replay's shadow while one runs) and a
 * replay's chunk (into the shadow only). One builder, so a replay applies exactly what the
 * workers apply, with the same keys, expiries and de-duplication.
 */
import { inStreamOrder } from '../aggregate.js';
import { closingMember, type StateKeys, stateKeys } from '../stateKeys.js';
import type { AggregatedPayload, GroupSpec, WindowInstance } from '../types.js';
import { closeTimeOf, expiryOf } from './expiry.js';

/** A replay registered on a partition, as the live batches mirror into it. */
export interface ReplayRegistration {
  id: string;
  group: string;
  /** The window names replayed. */
  windows: ReadonlySet<string>;
  /** The least instance start rebuilt (older instances are left as they are). */
  minStart: number;
}

export type ApplyTarget =
  | {
      mode: 'live';
      /** The consumer group acknowledging the entries. */
      consumerGroup: string;
      token: string;
      /** The checkpoint the batch builds on (`0-0`: none). */
      after: string;
      ids: readonly string[];
      lastId: string;
      /** MINID of the late and dead-letter streams. */
      minId: string;
      /** The replay registered on the partition, if any (its shadow gets the group's changes). */
      replay: ReplayRegistration | undefined;
      late: readonly LateArgs[];
      rejected: readonly { id: string; reason: string }[];
    }
  | {
      mode: 'replay';
      replay: ReplayRegistration;
      registrationTtlMs: number;
      /** Instances left as they are because they began before `minStart` (filled in here). */
      skipped: Set<string>;
    };

export interface LateArgs {
  entryId: string;
  group: string;
  member: string;
  value: number;
  ts: number;
  window: string;
  windowStart: number;
}

/** A window instance the script touches, by its index in the payload's pairs (0-based here). */
export interface PairRef {
  group: string;
  window: WindowInstance;
  spec: GroupSpec;
}

export interface ApplyArgs {
  keys: string[];
  argv: string[];
  pairs: PairRef[];
  /** Score updates and identified records sent. */
  ops: number;
}

export interface ApplyArgsOptions {
  name: string;
  partition: number;
  streamTime: number;
  dedupeHorizonMs: number;
  shadowTtlMs: number;
}

/**
 * @example
 * const { keys, argv } = applyArgs(envelope.payload, { mode: 'live', ... }, { name: 'lb', partition: 3, ... });
 * await redis.applyState(keys.length, ...keys, ...argv);
 */
export function applyArgs(
  payload: AggregatedPayload,
  target: ApplyTarget,
  options: ApplyArgsOptions,
): ApplyArgs {
  const state = stateKeys(options.name, options.partition);
  const keys = [
    state.stream,
    state.lease,
    state.checkpoint,
    state.late,
    state.dlq,
    state.replay,
    state.closing,
  ];
  const keyIndex = new Map<string, number>();
  const indexOf = (key: string): number => {
    let index = keyIndex.get(key);
    if (index === undefined) {
      keys.push(key);
      index = keys.length; // KEYS are 1-based in Lua
      keyIndex.set(key, index);
    }
    return index;
  };
  const replay = target.replay;
  const shadow = replay ? state.shadow(replay.id) : undefined;
  const mirrored = (group: string, window: WindowInstance) =>
    replay !== undefined &&
    group === replay.group &&
    replay.windows.has(window.definition.name) &&
    window.start >= replay.minStart;

  const pairs: PairRef[] = [];
  const pairArgs: unknown[][] = [];
  const pairIndex = new Map<string, number>();
  const pairOf = (group: string, window: WindowInstance, spec: GroupSpec): number => {
    const id = `${group}\u0000${window.key}`;
    let index = pairIndex.get(id);
    if (index === undefined) {
      pairs.push({ group, window, spec });
      pairArgs.push(
        pairArgsOf(
          state,
          group,
          window,
          spec,
          target.mode === 'live',
          mirrored(group, window) ? shadow : undefined,
          indexOf,
        ),
      );
      index = pairs.length;
      pairIndex.set(id, index);
    }
    return index;
  };
  const dedupeArgs: number[] = [];
  const dedupeIndex = new Map<string, number>();
  const dedupeOf = (group: string): number => {
    let index = dedupeIndex.get(group);
    if (index === undefined) {
      dedupeArgs.push(indexOf(target.mode === 'live' ? state.dedupe(group) : shadow!.dedupe(group)));
      index = dedupeArgs.length;
      dedupeIndex.set(group, index);
    }
    return index;
  };

  // In replay mode only the replayed group's windows since minStart are rebuilt.
  const wanted = (group: string, window: WindowInstance): boolean => {
    if (target.mode === 'live') return true;
    if (group !== target.replay.group || !target.replay.windows.has(window.definition.name)) return false;
    if (window.start >= target.replay.minStart) return true;
    target.skipped.add(window.key);
    return false;
  };

  const ops: unknown[] = [];
  let sent = 0;
  // Without records with an id, the order of the updates does not matter: each touches its own
  // member of a pair. They go as runs per pair, which the script applies in a loop of its own.
  const byPair = new Map<number, { timed: boolean; args: string[] }>();
  if (payload.identified.length === 0) {
    for (const update of payload.updates) {
      if (!wanted(update.group, update.window)) continue;
      const index = pairOf(update.group, update.window, update.spec);
      let run = byPair.get(index);
      if (run === undefined) {
        run = { timed: update.spec.reduce === 'last' || update.spec.tieBreak === 'earliest', args: [] };
        byPair.set(index, run);
      }
      if (run.timed)
        run.args.push(
          update.member,
          String(update.value),
          String(update.ts),
          update.sets === false ? '0' : '1',
        );
      else run.args.push(update.member, String(update.value));
      sent++;
    }
  }
  // The runs' updates follow the 11 arguments in ARGV (1-based there).
  const runs: number[][] = [];
  const runArgs: string[] = [];
  for (const [index, run] of byPair) {
    const first = 12 + runArgs.length;
    runs.push([index, run.timed ? 4 : 2, first, first + run.args.length - 1]);
    for (const arg of run.args) runArgs.push(arg);
  }
  for (const op of payload.identified.length === 0 ? [] : inStreamOrder(payload)) {
    if ('record' in op) {
      const { record } = op;
      if (target.mode === 'replay' && record.group !== target.replay.group) continue;
      const kept: number[] = [];
      for (const window of op.windows)
        if (wanted(record.group, window)) kept.push(pairOf(record.group, window, record.spec));
      ops.push([
        'e',
        dedupeOf(record.group),
        record.id,
        record.member,
        String(record.value),
        String(record.ts),
        String(arrivalOf(record.entryId)),
        kept,
      ]);
    } else if (wanted(op.group, op.window)) {
      ops.push([
        'u',
        pairOf(op.group, op.window, op.spec),
        op.member,
        String(op.value),
        String(op.ts),
        op.sets === false ? 0 : 1,
      ]);
    }
  }

  const body: Record<string, unknown> = { pairs: pairArgs, dedupe: dedupeArgs, ops, runs };
  let argv: string[];
  if (target.mode === 'live') {
    body.ids = target.ids;
    body.late = target.late.map((l) => [
      l.entryId,
      l.group,
      l.member,
      String(l.value),
      String(l.ts),
      l.window,
      String(l.windowStart),
    ]);
    body.rejected = target.rejected.map((r) => [r.id, r.reason]);
    argv = [
      'live',
      target.consumerGroup,
      target.token,
      target.after,
      target.lastId,
      String(options.streamTime),
      target.minId,
      String(options.dedupeHorizonMs),
      replay?.id ?? '',
      String(options.shadowTtlMs),
      payloadJson(body),
      ...runArgs,
    ];
  } else {
    body.ids = [];
    body.late = [];
    body.rejected = [];
    argv = [
      'replay',
      target.replay.id,
      String(target.registrationTtlMs),
      '',
      '',
      '',
      '',
      String(options.dedupeHorizonMs),
      '',
      String(options.shadowTtlMs),
      payloadJson(body),
      ...runArgs,
    ];
  }
  return { keys, argv, pairs, ops: ops.length + sent };
}

function pairArgsOf(
  state: StateKeys,
  group: string,
  window: WindowInstance,
  spec: GroupSpec,
  live: boolean,
  shadow: ReturnType<StateKeys['shadow']> | undefined,
  indexOf: (key: string) => number,
): unknown[] {
  const earliest = spec.tieBreak === 'earliest';
  const needsTimes = spec.reduce === 'last' || earliest;
  const closeAt = closeTimeOf(window);
  // Replay mode writes the shadow keys themselves; live mode the live ones, mirrored when asked.
  const target = live ? state : shadow!;
  const mirror = live ? shadow : undefined;
  return [
    indexOf(target.scores(group, window.key)),
    needsTimes ? indexOf(target.times(group, window.key)) : 0,
    spec.reduce,
    spec.order === 'desc' ? 1 : 0,
    spec.k,
    String(expiryOf(window, spec)),
    closeAt > 0 ? closingMember(group, window.key) : '',
    String(closeAt),
    mirror ? indexOf(mirror.scores(group, window.key)) : 0,
    mirror && needsTimes ? indexOf(mirror.times(group, window.key)) : 0,
    live ? (mirror ? indexOf(mirror.instances) : 0) : indexOf(shadow!.instances),
    window.key,
    earliest ? 1 : 0,
    indexOf(state.hidden(group)),
    indexOf(target.hiddenScores(group, window.key)),
    mirror ? indexOf(mirror.hiddenScores(group, window.key)) : 0,
  ];
}

/** The arrival time of an entry: its id's milliseconds. */
export function arrivalOf(entryId: string): number {
  return Number(entryId.slice(0, entryId.indexOf('-')));
}

const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/**
 * The payload as JSON. `JSON.stringify` writes a lone UTF-16 surrogate as an escape, which Lua's
 * cjson refuses: such strings (which never pass the edge's checks, but may sit in a stream) are
 * sent with U+FFFD, what Redis stores for them anyway.
 */
function payloadJson(body: Record<string, unknown>): string {
  const json = JSON.stringify(body);
  if (!json.includes('\\ud')) return json;
  return JSON.stringify(body, (_, v) => (typeof v === 'string' ? v.replace(LONE_SURROGATES, '\uFFFD') : v));
}
