/**
 * The dashboard (`GET /`) and its files (`GET /dashboard/:file`): plain HTML, CSS and JavaScript
 * modules from `server/dashboard/` (copied beside the compiled server by the build), and uPlot's
 * script and stylesheet from the pinned `uplot` package in `node_modules`: no build step and no
 * CDN. The page talks to the service over its public HTTP API only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { HttpError } from '../httpError.js';

const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** The files the page may load, by the name it asks for: nothing else is read from disk. */
const FILES: Record<string, () => string> = {
  'dashboard.css': () => `${DASHBOARD_DIR}dashboard.css`,
  'main.js': () => `${DASHBOARD_DIR}main.js`,
  'api.js': () => `${DASHBOARD_DIR}api.js`,
  'topTable.js': () => `${DASHBOARD_DIR}topTable.js`,
  'lookup.js': () => `${DASHBOARD_DIR}lookup.js`,
  'charts.js': () => `${DASHBOARD_DIR}charts.js`,
  'settings.js': () => `${DASHBOARD_DIR}settings.js`,
  'uPlot.iife.min.js': () => require.resolve('uplot/dist/uPlot.iife.min.js'),
  'uPlot.min.css': () => require.resolve('uplot/dist/uPlot.min.css'),
};

/**
 * @example
 * app.route('/', dashboardRoutes());
 * // GET / -> the page; GET /dashboard/main.js -> its script
 */
export function dashboardRoutes(): Hono {
  const app = new Hono();
  // Read once per process, on first use: the files are small and never change while it runs.
  const cache = new Map<string, string>();
  const file = (name: string) => {
    let body = cache.get(name);
    if (body === undefined) {
      const path = name === 'index.html' ? `${DASHBOARD_DIR}index.html` : FILES[name]?.();
      if (!path) throw new HttpError(404, 'not-found', `the dashboard has no file '${name}'`);
      body = readFileSync(path, 'utf8');
      cache.set(name, body);
    }
    return body;
  };
  const headers = (name: string) => ({
    'Content-Type': TYPES[extname(name)] ?? 'application/octet-stream',
    'Cache-Control': 'no-cache',
  });

  app.get('/', (c) => c.body(file('index.html'), 200, headers('index.html')));
  app.get('/dashboard/:file', (c) => {
    const name = basename(c.req.param('file'));
    return c.body(file(name), 200, headers(name));
  });
  return app;
}
