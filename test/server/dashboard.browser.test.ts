/**
 * The dashboard in a real browser: Debian's Chromium (playwright-core) against the real service (a
 * listening server, in-process workers, the test run's redis-server, PGlite). It proves that an
 * accepted event shows up live, rank changes are marked on reused rows, the window, instant and
 * board pickers switch what is shown, a board of 1,000 entries is shown whole, the user look-up
 * answers as the API does, the charts draw, and the settings show the board's fields. It leaves a
 * screenshot in test-artifacts/dashboard.png.
 */
// The callbacks of page.evaluate run in the browser: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { CHROMIUM, type LaunchedBrowser, launchChromium } from '../support/browser.js';
import { uniqueName } from '../support/redis.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import { reportMissingTool } from '../support/systemTools.js';

const DAY = 86_400_000;
/** Waits in the page are bounded generously: the machine is shared, and speed is the benchmarks' job. */
const WAIT_MS = 20_000;
export const SCREENSHOT = 'test-artifacts/dashboard.png';

if (!reportMissingTool(CHROMIUM)) {
  describe('the dashboard in Chromium (real service, workers and redis-server)', () => {
    let svc: TestService;
    let base: string;
    let browser: LaunchedBrowser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      svc = await startTestService({ workers: true });
      base = await svc.listen();
      browser = await launchChromium();
      page = await browser.context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.on('pageerror', (error) => pageErrors.push(String(error)));
    });
    afterAll(async () => {
      await browser?.close();
      await svc?.stop();
    });

    const send = async (method: string, path: string, body: unknown, key = TEST_KEYS.admin) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const getJson = async (path: string) => (await fetch(`${base}${path}`)).json();
    const row = (userId: string) => page.locator(`#top-rows tr[data-user="${userId}"]`);
    const rowCount = () => page.locator('#top-rows tr').count();
    const select = async (id: string, value: string) => {
      await page.locator(`#${id} option[value="${value}"]`).waitFor({ state: 'attached' });
      await page.selectOption(`#${id}`, value);
    };

    it('shows events live, marks rank changes, switches window, instant and board, looks a user up, and draws the charts', async () => {
      const recent = uniqueName('recent');
      const board1000 = uniqueName('many');
      for (const [id, config] of [
        [recent, { policy: 'sum', windows: ['all', 'day'], topK: 100, graceSeconds: 7 * 86_400 }],
        [
          board1000,
          { policy: 'max', windows: ['all', 'week'], topK: 1000, graceSeconds: 60, retentionDays: 3 },
        ],
      ] as const) {
        expect((await send('PUT', `/v1/boards/${id}`, config)).status).toBe(201);
      }
      expect(
        (await send('PUT', '/v1/users/ada/profile', { name: 'Ada Lovelace' }, TEST_KEYS.ingest)).status,
      ).toBe(200);

      await page.goto(`${base}/?board=${recent}`);
      await page.locator(`#board option[value="${recent}"]`).waitFor({ state: 'attached' });
      await page.locator('#top-meta', { hasText: 'live' }).waitFor();

      // An accepted event appears in the live top.
      const accepted = await send(
        'POST',
        `/v1/boards/${recent}/events`,
        { userId: 'ada', value: 7 },
        TEST_KEYS.ingest,
      );
      expect(accepted).toEqual({ status: 202, body: { accepted: 1 } });
      const acceptedAt = Date.now();
      await row('ada').waitFor();
      console.log(`dashboard: the event showed ${Date.now() - acceptedAt} ms after its 202`);
      expect(await row('ada').innerText()).toMatch(/^1\s+Ada Lovelace\s*ada\s+7/);

      // Overtaken: ada's row (the same element, not a new one) shows the move down; bob is new.
      await row('ada').evaluate((el) => {
        (el as unknown as { probe: boolean }).probe = true;
      });
      const overtake = { events: [{ board: recent, userId: 'bob', value: 10 }] };
      expect((await send('POST', '/v1/events', overtake, TEST_KEYS.ingest)).status).toBe(202);
      await row('ada').locator('td.move', { hasText: '▼1' }).waitFor();
      expect(await row('ada').getAttribute('class')).toBe('down');
      expect(await row('bob').locator('td.move').innerText()).toBe('new');
      expect(await row('ada').evaluate((el) => (el as unknown as { probe?: boolean }).probe)).toBe(true);
      expect(
        await page.locator('#top-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.user)),
      ).toEqual(['bob', 'ada']);

      // An event of yesterday counts in `all`, not in today's `day` window; `at` shows yesterday's.
      const yesterday = Date.now() - DAY;
      const old = { userId: 'cyd', value: 4, ts: yesterday };
      expect((await send('POST', `/v1/boards/${recent}/events`, old, TEST_KEYS.ingest)).status).toBe(202);
      await row('cyd').waitFor();
      await select('window', 'day');
      await row('ada').waitFor();
      expect(await row('cyd').count()).toBe(0);
      await page.evaluate((at) => {
        const input = document.getElementById('at') as HTMLInputElement;
        const d = new Date(at);
        const pad = (n: number) => String(n).padStart(2, '0');
        input.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
        input.dispatchEvent(new Event('change'));
      }, yesterday);
      await row('cyd').waitFor();
      expect(await rowCount()).toBe(1);
      expect(new URL(page.url()).searchParams.get('at')).not.toBeNull();
      await page.click('#now');
      await row('ada').waitFor();
      expect(await row('cyd').count()).toBe(0);

      // Another board, with 1,000 entries; its settings are shown field by field.
      await select('board', board1000);
      await select('k', '1000');
      await page.locator('#settings dd[data-field="policy"]', { hasText: 'max' }).waitFor();
      expect(await page.locator('#settings dd[data-field="windows"]').innerText()).toBe('all, week');
      expect(await page.locator('#settings dd[data-field="retentionDays"]').innerText()).toBe('3');
      expect(await page.locator('#settings dd[data-field="graceSeconds"]').innerText()).toBe('60');
      const many = Array.from({ length: 1000 }, (_, i) => ({ board: board1000, userId: `u${i}`, value: i }));
      expect((await send('POST', '/v1/events', { events: many }, TEST_KEYS.ingest)).status).toBe(202);
      await page.waitForFunction(() => document.querySelectorAll('#top-rows tr').length === 1000);
      expect(await row('ada').count()).toBe(0);
      expect(await page.locator('#top-rows tr').first().getAttribute('data-user')).toBe('u999');

      // The look-up of a user: standing, around and friends, as the API answers them.
      expect(
        (await send('PUT', '/v1/users/dot/friends', { friends: ['u5', 'u6'] }, TEST_KEYS.ingest)).status,
      ).toBe(200);
      const dot = { events: [{ board: board1000, userId: 'dot', value: 500.5 }] };
      expect((await send('POST', '/v1/events', dot, TEST_KEYS.ingest)).status).toBe(202);
      await row('dot').waitFor();
      await page.fill('#lookup-user', 'dot');
      await page.click('#lookup-form button');
      await page.locator('#standing dd[data-field="rank"]', { hasText: '#500' }).waitFor();
      const standing = (await getJson(`/v1/boards/${board1000}/users/dot`)) as Record<string, number>;
      expect(standing).toMatchObject({ rank: 500, score: 500.5, total: 1001 });
      expect(await page.locator('#standing dd[data-field="percentile"]').innerText()).toBe(
        String(Math.round(standing.percentile! * 10) / 10),
      );
      expect(await page.locator('#standing dd[data-field="score"]').innerText()).toBe('500.5');
      const around = page.locator('#around tbody tr');
      expect(await around.evaluateAll((rows) => rows.map((r) => r.dataset.user))).toEqual([
        ...['u505', 'u504', 'u503', 'u502', 'u501'],
        'dot',
        ...['u500', 'u499', 'u498', 'u497', 'u496'],
      ]);
      expect(await page.locator('#around tr.me').getAttribute('data-user')).toBe('dot');
      expect(
        await page
          .locator('#friends tbody tr')
          .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).innerText)),
      ).toEqual(['1\tdot\t500.5', '2\tu6\t6', '3\tu5\t5']);

      // The charts: uPlot holds the per-second samples, and its canvases are drawn on.
      const charts = await waitUntil(
        () =>
          page.evaluate(() => {
            const d = (window as unknown as { dashboard: Dashboard }).dashboard.charts.charts;
            const rates = d.rates?.data;
            const ready =
              rates &&
              rates[0]!.length >= 2 &&
              rates[1]!.some((v) => v !== null && v > 0) &&
              rates[2]!.some((v) => v !== null && v > 0) &&
              d.backlog?.data.slice(1).some((s) => s.some((v) => v !== null));
            if (!ready) return false;
            return Object.fromEntries(
              Object.entries(d).map(([name, chart]) => [
                name,
                { series: chart.data.length, samples: chart.data[0]!.length },
              ]),
            );
          }),
        WAIT_MS,
        'the charts to hold samples with events in and applied',
      );
      expect(Object.keys(charts).sort()).toEqual(['backlog', 'freshness', 'problems', 'rates']);
      expect(charts.backlog!.series).toBe(1 + svc.config.PARTITIONS);
      const drawn = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLCanvasElement>('.chart-grid canvas')].map((canvas) => {
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let painted = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
          return painted;
        }),
      );
      expect(drawn).toHaveLength(4);
      for (const painted of drawn) expect(painted).toBeGreaterThan(500);

      // A climb of 997 places (from 998th, behind u4..u999 and dot): the climber's row goes to the top and says so, the rows it passed
      // say they moved down one, and the time since its score changed is shown.
      const climb = { events: [{ board: board1000, userId: 'u3', value: 5000 }] };
      expect((await send('POST', '/v1/events', climb, TEST_KEYS.ingest)).status).toBe(202);
      await row('u3').locator('td.move', { hasText: '▲997' }).waitFor();
      expect(await page.locator('#top-rows tr').first().getAttribute('data-user')).toBe('u3');
      expect(await row('u999').locator('td.move').innerText()).toBe('▼1');
      expect(await row('u3').locator('td.changed').innerText()).toMatch(/^\d+ s ago$/);

      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(pageErrors).toEqual([]);
    });
  });
}

interface Dashboard {
  charts: { charts: Record<string, { data: (number | null)[][] }> };
}
