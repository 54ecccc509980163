/**
 * `/metrics` of a service whose workers have applied events (so every counter and histogram has
 * samples) passes `promtool check metrics` (Debian's `prometheus` package), and each help text says
 * what its metric counts.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import { reportMissingTool, type SystemTool } from '../support/systemTools.js';

const PROMTOOL: SystemTool = {
  path: process.env.PROMTOOL_PATH ?? '/usr/bin/promtool',
  install: 'apt-get install -y --no-install-recommends prometheus',
};

if (!reportMissingTool(PROMTOOL)) {
  describe('/metrics in the Prometheus text format (promtool)', () => {
    let svc: TestService;
    let base: string;
    beforeAll(async () => {
      svc = await startTestService({ workers: true });
      base = await svc.listen();
    });
    afterAll(async () => {
      await svc?.stop();
    });

    it('passes promtool check metrics once the workers have applied, late and duplicate events', async () => {
      const now = Date.now();
      const events = [
        { board: 'global', userId: 'ann', value: 3, eventId: 'e1' },
        { board: 'global', userId: 'ann', value: 3, eventId: 'e1' },
        { board: 'global', userId: 'bob', value: 2 },
        // Far behind the partition's stream time: late in every window but `all`.
        { board: 'global', userId: 'ann', value: 1, ts: now - 40 * 86_400_000 },
      ];
      const res = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TEST_KEYS.ingest}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      expect(res.status).toBe(202);
      const text = await waitUntil(
        async () => {
          const metrics = await (await fetch(`${base}/metrics`)).text();
          return /^lb_snapshots_total [1-9]/m.test(metrics) && /^lb_events_applied_total 4$/m.test(metrics)
            ? metrics
            : undefined;
        },
        20_000,
        'the workers to apply the events and publish a snapshot',
      );
      expect(text).toMatch(/^lb_duplicate_events_total 1$/m);
      // The old event is late in three windows (day, week, month): three (event, window) pairs.
      expect(text).toMatch(/^lb_late_events_total 3$/m);
      expect(text).toMatch(
        /^# HELP lb_late_events_total \(record, window instance\) pairs set aside as late/m,
      );

      const check = spawnSync(PROMTOOL.path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({
        status: 0,
        output: '',
      });
    });
  });
}
