/**
 * The library's DSL: what `Topology.fromStreams(...).windowedBy(...).aggregate(...).topK(...).to(...)`
 * accepts and refuses, the defaults it fills in, the per-group specs of a group source, and
 * `describe()` of the graph with its branches (filters, dead letters, late records, sinks),
 * the leaderboard's among them.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeLeaderboard, leaderboardTopology } from '../../leaderboard/index.js';
import { type Codec, jsonCodec } from '../../operators/codec.js';
import {
  archive,
  CalendarWindows,
  GlobalWindows,
  type GroupSettings,
  lateRecords,
  snapshots,
  TimeWindows,
  Topology,
} from '../../topology/index.js';

const Play = z.object({ game: z.string(), player: z.string(), points: z.number(), at: z.number() });
type Play = z.infer<typeof Play>;
const DAY = 86_400_000;
const plays = () => Topology.fromStreams('plays', { schema: Play, partitionKey: (p) => p.player });
const store = { archive: async () => true };

describe('Topology DSL: the builder rules', () => {
  it('refuses a stream name that could not sit in a key, and a source without a schema or codec', () => {
    for (const bad of ['a:b', '{plays}', 'two words', '']) {
      expect(() => Topology.fromStreams(bad, { schema: Play, partitionKey: () => 'x' }), bad).toThrow(
        TypeError,
      );
    }
    expect(() => Topology.fromStreams('a:b', { schema: Play, partitionKey: () => 'x' })).toThrow(
      "stream name 'a:b' must hold no braces, spaces or ':'",
    );
    expect(() => Topology.fromStreams<Play>('plays', { partitionKey: (p) => p.player })).toThrow(
      'fromStreams needs a schema or a codec',
    );
  });

  it('takes a codec over the schema, and the schema’s JSON codec otherwise', () => {
    const codec: Codec<Play> = {
      encode: (p) => ['p', `${p.game}/${p.player}/${p.points}/${p.at}`],
      decode: () => ({ ok: false, reason: 'never' }),
    };
    const withCodec = Topology.fromStreams('plays', { schema: Play, codec, partitionKey: (p) => p.player })
      .aggregate({ group: 'all', member: (p) => p.player, value: (p) => p.points })
      .topK(3)
      .to();
    expect(withCodec.definition.codec).toBe(codec);
    const withSchema = plays()
      .aggregate({ group: 'all', member: (p) => p.player, value: (p) => p.points })
      .topK(3)
      .to();
    const play = { game: 'chess', player: 'ann', points: 3, at: 1 };
    expect(withSchema.definition.codec.encode(play)).toEqual(jsonCodec(Play).encode(play));
    expect(withSchema.definition.codec.decode({ d: '{"game":1}' })).toMatchObject({ ok: false });
  });

  it('refuses no windows and two windows of one name', () => {
    expect(() => plays().windowedBy()).toThrow('windowedBy needs at least one window');
    expect(() => plays().windowedBy(CalendarWindows.day(), CalendarWindows.day({ graceMs: 5 }))).toThrow(
      'windowedBy: two windows share a name',
    );
    expect(() => plays().windowedBy(TimeWindows.ofSize(DAY).withName('day'), CalendarWindows.day())).toThrow(
      'two windows share a name',
    );
  });

  it('needs a value function for every reducer but count', () => {
    for (const reduce of ['sum', 'max', 'min', 'last'] as const) {
      expect(() => plays().aggregate({ group: 'all', member: (p) => p.player, reduce })).toThrow(
        `aggregate: reduce '${reduce}' needs a value function`,
      );
    }
    const counted = plays()
      .aggregate({ group: 'all', member: (p) => p.player, reduce: 'count' })
      .topK(5)
      .to();
    expect(counted.definition.value({ game: 'g', player: 'p', points: 99, at: 0 })).toBe(1);
  });

  it('refuses a K that is not a positive integer, and two sinks of one name', () => {
    const aggregated = plays().aggregate({ group: 'all', member: (p) => p.player, value: (p) => p.points });
    for (const k of [0, -1, 1.5, Number.NaN]) {
      expect(() => aggregated.topK(k), String(k)).toThrow(`topK: k must be a positive integer, got ${k}`);
    }
    expect(() => aggregated.topK(3).to(archive(store), archive(store))).toThrow('to: two sinks share a name');
    expect(() => aggregated.topK(3).to(archive(store), archive(store, {}, 'second'))).not.toThrow();
  });

  it('fills in the defaults: sum, the global window, desc, ties by member, 7 days of retention', () => {
    const topology = plays()
      .aggregate({ group: (p) => p.game, member: (p) => p.player, value: (p) => p.points })
      .topK(10)
      .to();
    const { definition } = topology;
    expect(definition.defaults).toEqual({
      reduce: 'sum',
      windows: [GlobalWindows.create()],
      order: 'desc',
      k: 10,
      tieBreak: 'member',
      retentionMs: 7 * DAY,
    });
    expect(definition.perGroup).toBe(false);
    expect(definition.groupNoun).toBe('group');
    // Without a group source every group is known and alike.
    expect(definition.spec('chess')).toBe(definition.defaults);
    expect(definition.spec('anything')).toBe(definition.defaults);
    expect(topology.name).toBe('plays');
    expect(definition.group({ game: 'go', player: 'p', points: 1, at: 0 })).toBe('go');
  });

  it('gives each group of a group source its settings over the defaults, and dead-letters unknown ones', () => {
    const settings = new Map<string, GroupSettings>([
      ['chess', { reduce: 'max', k: 3, windows: [CalendarWindows.day()], order: undefined }],
      ['go', {}],
    ]);
    const definition = plays()
      .windowedBy(CalendarWindows.week())
      .aggregate({
        group: (p) => p.game,
        member: (p) => p.player,
        value: (p) => p.points,
        groups: { settings: (id) => settings.get(id), noun: 'game' },
      })
      .topK(10, { order: 'asc', retentionMs: DAY })
      .to().definition;
    expect(definition.perGroup).toBe(true);
    expect(definition.groupNoun).toBe('game');
    // An undefined setting keeps the default.
    expect(definition.spec('chess')).toEqual({
      reduce: 'max',
      windows: [CalendarWindows.day()],
      order: 'asc',
      k: 3,
      tieBreak: 'member',
      retentionMs: DAY,
    });
    expect(definition.spec('go')).toEqual(definition.defaults);
    expect(definition.spec('ghost')).toBeUndefined();
    // A spec is remembered while the settings object stays the same, and made anew when it is replaced.
    expect(definition.spec('chess')).toBe(definition.spec('chess'));
    const before = definition.spec('chess');
    settings.set('chess', { reduce: 'max', k: 5 });
    expect(definition.spec('chess')).not.toBe(before);
    expect(definition.spec('chess')?.k).toBe(5);
  });

  it('never changes a builder it was called on', () => {
    const stream = plays();
    const filtered = stream.filter((p) => p.points > 0, 'positive');
    const plain = stream
      .aggregate({ group: 'all', member: (p) => p.player, value: (p) => p.points })
      .topK(1)
      .to();
    expect(plain.definition.filters).toEqual([]);
    const kept = filtered
      .aggregate({ group: 'all', member: (p) => p.player, value: (p) => p.points })
      .topK(1)
      .to();
    expect(kept.definition.filters.map((f) => f.name)).toEqual(['positive']);
    const renamed = kept.named('renamed');
    expect([kept.name, renamed.name, renamed.definition.stream]).toEqual(['plays', 'renamed', 'plays']);
  });
});

describe('Topology DSL: describe()', () => {
  it('describes the leaderboard: the boards as groups with their own settings, dead letters and late records', () => {
    expect(describeLeaderboard()).toMatchInlineSnapshot(`
      "Topology: leaderboard
        Source: source (consumer group on {lb:p}:in, leased partitions)
          --> decode
        Processor: decode (decode entries; undecodable ones are dead-lettered with their batch)
          --> key, dead-letters
        Processor: key (group, member, value, time, id of each record; unknown boards are dead-lettered)
          --> windows, dead-letters
        Processor: windows (event-time windows (each board's own; by default global window (all time)); records past a window's end plus grace go to late)
          --> aggregate, late
        Processor: aggregate (reduce (each board's own; by default sum) per (board, window instance, member) within the batch)
          --> apply
        Processor: apply (one fenced Lua script per partition batch: state, de-duplication, late records, dead letters, checkpoint, acknowledgement; marks the tops it may have changed)
          --> topK
        Processor: topK (merge each marked top (each board's own; by default top 100, desc, ties by member) from the partitions; versioned snapshots {lb:snap:<board>}:<window>, announced)
          --> none
        Sink: dead-letters (each partition's dead-letter stream {lb:p}:dlq)
          --> none
        Sink: late (each partition's late stream {lb:p}:late (side output))
          --> none"
    `);
  });

  it('adds the archive sink after topK when the leaderboard archives closed windows', () => {
    const stages = leaderboardTopology({ settings: () => undefined }, { archive: store }).stages();
    expect(stages.map((s) => `${s.kind}:${s.name} -> ${s.to.join(',')}`)).toEqual([
      'source:source -> decode',
      'processor:decode -> key,dead-letters',
      'processor:key -> windows,dead-letters',
      'processor:windows -> aggregate,late',
      'processor:aggregate -> apply',
      'processor:apply -> topK',
      'processor:topK -> archive',
      'sink:dead-letters -> ',
      'sink:late -> ',
      'sink:archive -> ',
    ]);
  });

  it('shows filters in order, and each sink on the branch it takes (snapshots and closed windows from topK, late records from late)', () => {
    const topology = plays()
      .filter((p) => p.points > 0, 'positive')
      .filter((p) => p.game !== 'test')
      .windowedBy(
        TimeWindows.ofSizeAndGrace(3_600_000, 60_000),
        CalendarWindows.day({ timeZone: 'Europe/Paris' }),
      )
      .aggregate({ group: 'all', member: (p) => p.player, reduce: 'count' })
      .topK(5, { order: 'asc', tieBreak: 'earliest' })
      .to(
        snapshots(() => {}, 'feed'),
        lateRecords(() => {}, 'late-alerts'),
        archive(store),
      );
    expect(topology.describe()).toMatchInlineSnapshot(`
      "Topology: plays
        Source: source (consumer group on {plays:p}:in, leased partitions)
          --> decode
        Processor: decode (decode entries; undecodable ones are dead-lettered with their batch)
          --> positive, dead-letters
        Processor: positive (keep the records the predicate accepts)
          --> filter2
        Processor: filter2 (keep the records the predicate accepts)
          --> key
        Processor: key (group, member, value, time of each record; unknown groups are dead-lettered)
          --> windows, dead-letters
        Processor: windows (event-time windows (tumbling PT1H, grace PT1M, calendar day in Europe/Paris); records past a window's end plus grace go to late)
          --> aggregate, late
        Processor: aggregate (reduce (count) per (group, window instance, member) within the batch)
          --> apply
        Processor: apply (one fenced Lua script per partition batch: state, de-duplication, late records, dead letters, checkpoint, acknowledgement; marks the tops it may have changed)
          --> topK
        Processor: topK (merge each marked top (top 5, asc, ties by earliest) from the partitions; versioned snapshots {plays:snap:<group>}:<window>, announced)
          --> feed, archive
        Sink: dead-letters (each partition's dead-letter stream {plays:p}:dlq)
          --> none
        Sink: late (each partition's late stream {plays:p}:late (side output))
          --> late-alerts
        Sink: feed (calls back with every snapshot stored)
          --> none
        Sink: late-alerts (calls back with every late record (also kept in each partition’s late stream))
          --> none
        Sink: archive (archives each window instance’s final top-K once it closes)
          --> none"
    `);
    // The stages, as data, say the same.
    const byName = new Map(topology.stages().map((s) => [s.name, s]));
    expect(byName.get('late')).toMatchObject({ kind: 'sink', to: ['late-alerts'] });
    expect(byName.get('topK')).toMatchObject({ kind: 'processor', to: ['feed', 'archive'] });
    expect(byName.get('source')).toMatchObject({ kind: 'source', to: ['decode'] });
  });
});
