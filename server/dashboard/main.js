/**
 * The dashboard's entry point: the pickers (board, window, past instant, rows), the live top over
 * Server-Sent Events, the user look-up, the pipeline charts and the board's settings. The view is
 * kept in the page's query string, so a screen can be bookmarked or reloaded as it was.
 */
import { ago, boardPath, getJson, windowQuery } from './api.js';
import { PipelineCharts } from './charts.js';
import { UserLookup } from './lookup.js';
import { renderSettings } from './settings.js';
import { TopTable } from './topTable.js';

const $ = (id) => document.getElementById(id);

/** How often the board list (new boards, changed settings) is read again, ms. */
const BOARDS_REFRESH_MS = 10_000;

const params = new URLSearchParams(location.search);
const view = {
  board: params.get('board') ?? 'global',
  window: params.get('window') ?? 'all',
  at: params.has('at') ? Number(params.get('at')) : undefined,
  k: Number(params.get('k') ?? 100),
};
let boards = [];
let source;
let top;
let status = 'connecting…';

const table = new TopTable($('top-rows'), (userId) => lookup.show(userId));
const lookup = new UserLookup(document, () => view);
const charts = new PipelineCharts(document);
// For people poking at the page from the console, and for the browser test.
window.dashboard = { view, table, lookup, charts };

function boardConfig() {
  return boards.find((b) => b.id === view.board);
}

function fillOptions(select, values, selected) {
  const current = [...select.options].map((o) => o.value);
  if (current.join('\n') !== values.join('\n')) {
    select.replaceChildren(
      ...values.map((value) => {
        const option = document.createElement('option');
        option.value = option.textContent = value;
        return option;
      }),
    );
  }
  select.value = selected;
}

/** Shows the pickers and settings for `view`, correcting a board or window that does not exist. */
function showView() {
  if (!boardConfig() && boards.length > 0) view.board = boards[0].id;
  const board = boardConfig();
  const windows = board?.windows ?? ['all'];
  if (!windows.includes(view.window)) view.window = windows.includes('all') ? 'all' : windows[0];
  fillOptions(
    $('board'),
    boards.map((b) => b.id),
    view.board,
  );
  fillOptions($('window'), windows, view.window);
  $('k').value = String(view.k);
  $('at').value = view.at === undefined ? '' : localInputValue(view.at);
  renderSettings($('settings'), board);
  const query = new URLSearchParams({ board: view.board, window: view.window, k: String(view.k) });
  if (view.at !== undefined) query.set('at', String(view.at));
  history.replaceState(null, '', `?${query}`);
}

/** (Re)opens the live stream of the shown board, window and instant. */
function connect() {
  source?.close();
  table.reset();
  top = undefined;
  status = 'connecting…';
  showMeta();
  const url = `${boardPath(view.board, 'live')}?${windowQuery(view, { k: view.k })}`;
  source = new EventSource(url);
  source.addEventListener('top', (event) => {
    top = JSON.parse(event.data);
    status = 'live';
    table.update(top);
    $('top-empty').hidden = top.entries.length > 0;
    showMeta();
  });
  source.onerror = () => {
    status = 'reconnecting…';
    showMeta();
  };
}

function showMeta() {
  const parts = [status];
  if (top) {
    const start = top.windowStart ? new Date(top.windowStart).toLocaleString() : '';
    if (top.window !== 'all') parts.push(`window from ${start}`);
    if (view.at !== undefined) parts.push(`at ${new Date(view.at).toLocaleString()}`);
    parts.push(`version ${top.version}`);
    parts.push(top.updatedAt ? `last change ${ago(top.updatedAt)}` : 'no change yet');
  }
  const text = parts.join(' · ');
  if ($('top-meta').textContent !== text) $('top-meta').textContent = text;
}

function changeView(change) {
  Object.assign(view, change);
  showView();
  connect();
  void lookup.refresh();
}

async function loadBoards() {
  const body = await getJson('/v1/boards');
  boards = body.boards;
  showView();
}

$('board').addEventListener('change', (e) => changeView({ board: e.target.value }));
$('window').addEventListener('change', (e) => changeView({ window: e.target.value }));
$('k').addEventListener('change', (e) => changeView({ k: Number(e.target.value) }));
$('at').addEventListener('change', (e) => {
  const at = e.target.value ? new Date(e.target.value).getTime() : undefined;
  changeView({ at: Number.isFinite(at) ? at : undefined });
});
$('now').addEventListener('click', () => changeView({ at: undefined }));
$('pickers').addEventListener('submit', (e) => e.preventDefault());

setInterval(() => {
  table.tick();
  showMeta();
}, 1000);
setInterval(() => void loadBoards().catch(() => {}), BOARDS_REFRESH_MS);

loadBoards()
  .then(() => {
    connect();
    if (params.get('user')) void lookup.show(params.get('user'));
  })
  .catch((error) => {
    $('top-meta').textContent = `cannot list the boards: ${error.message}`;
  });
charts.start();

/** An epoch ms as a `datetime-local` input's value, in the browser's time zone. */
function localInputValue(at) {
  const d = new Date(at);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
