import { partitionKeys } from 'redis-streams-consumer-groups';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, expectError, expectNothingEnqueued, streamLengths } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';

describe('ingest backpressure (HIGH_WATER_MARK=5, no workers)', () => {
  let svc: TestService;
  let hot: string;
  let cold: string;
  beforeAll(async () => {
    svc = await startTestService({ env: { HIGH_WATER_MARK: '5' } });
    hot = 'hot-user';
    const hotPartition = svc.services.writer.partitionOf(hot);
    cold = Array.from({ length: 100 }, (_, i) => `cold-${i}`).find(
      (u) => svc.services.writer.partitionOf(u) !== hotPartition,
    )!;
    // Six events on the hot partition, in one request (the backlog is checked before it).
    const events = Array.from({ length: 6 }, () => ({ board: 'global', userId: hot, value: 1 }));
    const res = await call(svc.app, 'POST', '/v1/events', { key: TEST_KEYS.ingest, body: { events } });
    expect(res.status).toBe(202);
    const backlogs = await svc.services.writer.refreshBacklogs();
    expect(backlogs[hotPartition]).toBe(6);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await svc?.stop();
  });

  const single = (userId: string) =>
    call(svc.app, 'POST', '/v1/boards/global/events', { key: TEST_KEYS.ingest, body: { userId, value: 1 } });

  it('answers 503 backlog-full with Retry-After for an event on a partition over the mark, enqueuing nothing', async () => {
    const res = await expectNothingEnqueued(svc.services, () => single(hot));
    const message = await expectError(res, 503, 'backlog-full');
    expect(message).toContain(String(svc.services.writer.partitionOf(hot)));
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('rejects a whole batch with 503 when one of its events is on a partition over the mark', async () => {
    const events = [
      { board: 'global', userId: cold, value: 1 },
      { board: 'global', userId: cold, value: 2 },
      { board: 'global', userId: hot, value: 3 },
    ];
    const res = await expectNothingEnqueued(svc.services, () =>
      call(svc.app, 'POST', '/v1/events', { key: TEST_KEYS.ingest, body: { events } }),
    );
    await expectError(res, 503, 'backlog-full');
    expect(res.headers.get('retry-after')).not.toBeNull();
  });

  it('still accepts events on partitions under the mark', async () => {
    const before = await streamLengths(svc.services);
    expect((await single(cold)).status).toBe(202);
    const after = await streamLengths(svc.services);
    const p = svc.services.writer.partitionOf(cold);
    expect(after[p]).toBe(before[p]! + 1);
  });

  it('accepts the hot partition again once its backlog is consumed', async () => {
    const p = svc.services.writer.partitionOf(hot);
    const stream = partitionKeys(svc.config.KEY_PREFIX, p).stream;
    const length = await svc.redis.xlen(stream);
    await svc.redis.xgroup('SETID', stream, 'workers', '$', 'ENTRIESREAD', length);
    expect((await svc.services.writer.refreshBacklogs())[p]).toBe(0);
    expect((await single(hot)).status).toBe(202);
  });

  it('answers 503 unavailable with Retry-After when Redis does not accept the event (single)', async () => {
    vi.spyOn(svc.services.writer, 'appendOne').mockRejectedValueOnce(new Error('connection lost'));
    const res = await single(cold);
    const message = await expectError(res, 503, 'unavailable');
    expect(message).toContain('Redis');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 unavailable with Retry-After when Redis does not accept the events (batch)', async () => {
    vi.spyOn(svc.services.writer, 'append').mockRejectedValueOnce(new Error('connection lost'));
    const res = await call(svc.app, 'POST', '/v1/events', {
      key: TEST_KEYS.ingest,
      body: { events: [{ board: 'global', userId: cold, value: 1 }] },
    });
    const message = await expectError(res, 503, 'unavailable');
    expect(message).toContain('Redis');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
