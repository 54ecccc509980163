/**
 * A producer's auto-pipelining connection shared with a `StreamAdmin` (the edge's appends and its
 * backlog check): the admin's first read, in a turn whose appends already opened an auto-pipeline,
 * neither fails nor takes the process down.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { dropKeys, redisUrl, uniqueName } from '../../test/support/redis.js';
import { createAppendConnection, Producer, StreamAdmin } from '../src/index.js';

describe('a StreamAdmin on an auto-pipelining connection', () => {
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  it('reads the group in the same turn as appends that opened an auto-pipeline', async () => {
    const redis = new Redis(redisUrl());
    clients.push(redis);
    const name = uniqueName('ap');
    const appends = createAppendConnection(redis, { enableAutoPipelining: true }) as Redis;
    clients.push(appends);
    const producer = new Producer(appends, { name, partitions: 2 });
    const admin = new StreamAdmin(appends, { name, group: 'g', partitions: 2 });
    await admin.ensureGroups();
    await producer.appendOne({ partition: 0, fields: { n: '0' } }); // connected

    // One turn: the append opens the turn's pipeline, then the admin's first groupInfo joins it.
    const appended = producer.appendOne({ partition: 1, fields: { n: '1' } });
    const info = admin.groupInfo();
    const [id, groups] = await Promise.all([appended, info]);
    expect(id).toMatch(/^\d+-\d+$/);
    expect(groups.map((g) => ({ partition: g.partition, length: g.length, lag: g.lag }))).toEqual([
      { partition: 0, length: 1, lag: 1 },
      { partition: 1, length: 1, lag: 1 },
    ]);
    await dropKeys(redis, name);
  });
});
