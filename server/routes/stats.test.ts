import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { call, expectError } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';
import { quantileMs, type StatsBody } from '../stats.js';

describe('GET /v1/stats (the dashboard charts’ samples)', () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  const start = async (options?: Parameters<typeof startTestService>[0]) => {
    svc = await startTestService(options);
    return svc;
  };
  const stats = async (s: TestService, query = ''): Promise<StatsBody> => {
    const res = await call(s.app, 'GET', `/v1/stats${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as StatsBody;
  };
  const post = (s: TestService, events: unknown[]) =>
    call(s.app, 'POST', '/v1/events', { key: TEST_KEYS.ingest, body: { events } });

  it('without workers here: the accepted rate and every partition’s backlog, and null where the workers would measure', async () => {
    const s = await start();
    const first = await stats(s); // asking turns the backlog reads on
    expect(first).toMatchObject({ intervalMs: 1000, workersInProcess: false, partitions: 4 });
    await s.services.stats.sample();
    const events = ['ann', 'bob', 'cat', 'dan', 'eve'].map((userId) => ({
      board: 'global',
      userId,
      value: 1,
    }));
    expect((await post(s, events)).status).toBe(202);
    await s.services.stats.sample();

    const body = await stats(s);
    expect(body.samples.length).toBeGreaterThan(0);
    expect(body.samples.some((x) => x.ingestedPerSecond > 0)).toBe(true);
    const last = body.samples.at(-1)!;
    expect(last).toMatchObject({
      appliedPerSecond: null,
      lateEventsPerSecond: null,
      deadLettersPerSecond: null,
      freshnessP50Ms: null,
      freshnessP99Ms: null,
    });
    // Nothing consumes the streams: the backlog is the events, each in its user's partition.
    const expected = [0, 0, 0, 0];
    for (const e of events) expected[s.services.writer.partitionOf(e.userId)]!++;
    expect(last.backlog).toEqual(expected);
    // Samples come oldest first; `since` leaves out those taken at or before it.
    const ats = body.samples.map((x) => x.at);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    expect((await stats(s, `?since=${last.at}`)).samples).toEqual([]);
    expect((await stats(s, `?since=${last.at - 1}`)).samples.at(-1)).toEqual(last);
  });

  it('answers 400 for a since that is not an epoch ms', async () => {
    const s = await start();
    await expectError(await call(s.app, 'GET', '/v1/stats?since=yesterday'), 400, 'invalid-query');
  });

  it('with workers here: applied events per second, freshness quantiles and a drained backlog', async () => {
    const s = await start({ workers: true });
    await stats(s);
    await s.services.stats.sample();
    const events = Array.from({ length: 50 }, (_, i) => ({ board: 'global', userId: `u${i}`, value: i }));
    expect((await post(s, events)).status).toBe(202);
    const sample = await waitUntil(
      async () => {
        await s.services.stats.sample();
        const body = await stats(s);
        const applied = body.samples.reduce((sum, x) => sum + (x.appliedPerSecond ?? 0), 0);
        const last = body.samples.at(-1)!;
        return applied > 0 && last.freshnessP50Ms !== null && last.backlog?.every((b) => b === 0) && last;
      },
      20_000,
      'a sample with applied events, freshness and no backlog',
    );
    expect((await stats(s)).workersInProcess).toBe(true);
    expect(sample.freshnessP50Ms).toBeGreaterThanOrEqual(0);
    expect(sample.freshnessP99Ms).toBeGreaterThanOrEqual(sample.freshnessP50Ms!);
    expect(sample.lateEventsPerSecond).toBe(0);
    expect(sample.deadLettersPerSecond).toBe(0);
  });
});

describe('quantileMs (histogram_quantile over cumulative buckets)', () => {
  const bounds = [0.01, 0.1, 1, Number.POSITIVE_INFINITY];

  it('interpolates inside the bucket that holds the rank, in ms', () => {
    // 10 observations: 4 up to 10 ms, 4 more up to 100 ms, 2 more up to 1 s.
    expect(quantileMs(bounds, [4, 8, 10, 10], 0.5)).toBe(32.5);
    expect(quantileMs(bounds, [4, 8, 10, 10], 0.2)).toBe(5);
    expect(quantileMs(bounds, [4, 8, 10, 10], 0.99)).toBe(955);
  });

  it('answers the largest finite bound for ranks in the +Inf bucket, and null without observations', () => {
    expect(quantileMs(bounds, [0, 0, 1, 4], 0.99)).toBe(1000);
    expect(quantileMs(bounds, [0, 0, 0, 0], 0.5)).toBeNull();
  });
});
