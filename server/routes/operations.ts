/** Health, readiness, metrics, the API description and its page for people. */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { openApiDocument } from '../openapi.js';
import { type Services, workersAlive } from '../services.js';

export function operationRoutes(services: Services): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const check = async (probe: () => Promise<unknown>) => {
      try {
        const ok = await Promise.race([
          probe(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000)),
        ]);
        return ok !== false;
      } catch {
        return false;
      }
    };
    const checks = {
      redis: await check(() => services.redis.ping()),
      database: await check(() => services.db.query('SELECT 1')),
      workers: await check(() => workersAlive(services)),
    };
    const ready = Object.values(checks).every(Boolean);
    return c.json(
      { status: ready ? 'ready' : 'not-ready', checks },
      ready ? 200 : 503,
      ready ? {} : { 'Retry-After': '1' },
    );
  });

  app.get('/metrics', async (c) => {
    return c.text(await services.registry.metrics(), 200, { 'Content-Type': services.registry.contentType });
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument));

  app.get('/docs', (c) => {
    const rows = Object.entries(openApiDocument.paths).flatMap(([route, methods]) =>
      Object.entries(methods).map(
        ([method, op]) =>
          html`<tr><td><code>${method.toUpperCase()}</code></td><td><code>${route}</code></td><td>${(op as { summary: string }).summary}</td></tr>`,
      ),
    );
    return c.html(html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Leaderboard API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}td{padding:.3rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}code{font-size:.95em}</style></head>
<body><h1>${openApiDocument.info.title} API</h1><p>${openApiDocument.info.description}</p>
<p>Errors are <code>{"error": {"code", "message"}}</code>. Keys go in <code>Authorization: Bearer &lt;key&gt;</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<table>${rows}</table></body></html>`);
  });

  return app;
}
