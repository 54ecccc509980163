/** The dashboard: a page that lists the boards and shows one board's top live (over SSE). */
import { html } from 'hono/html';

export function dashboardPage() {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Leaderboard</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:48rem}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}#meta{color:#666}</style></head>
<body><h1>Leaderboard</h1>
<label>Board <select id="board"></select></label>
<label>Window <select id="window"><option>all</option><option>day</option><option>week</option><option>month</option></select></label>
<p id="meta">connecting…</p>
<table><thead><tr><th>Rank</th><th>User</th><th>Score</th></tr></thead><tbody id="rows"></tbody></table>
<p><a href="/docs">API</a> · <a href="/metrics">metrics</a></p>
<script>
const $ = (id) => document.getElementById(id);
let source;
function show(top) {
  $('meta').textContent = top.board + ' / ' + top.window + ' · version ' + top.version + (top.updatedAt ? ' · ' + new Date(top.updatedAt).toLocaleTimeString() : '');
  $('rows').replaceChildren(...top.entries.map((e) => {
    const tr = document.createElement('tr');
    for (const v of [e.rank, e.profile ? e.profile.name + ' (' + e.userId + ')' : e.userId, e.score]) {
      const td = document.createElement('td'); td.textContent = v; tr.append(td);
    }
    return tr;
  }));
}
function connect() {
  source?.close();
  source = new EventSource('/v1/boards/' + encodeURIComponent($('board').value) + '/live?window=' + $('window').value);
  source.addEventListener('top', (event) => show(JSON.parse(event.data)));
  source.onerror = () => { $('meta').textContent = 'reconnecting…'; };
}
fetch('/v1/boards').then((r) => r.json()).then(({ boards }) => {
  for (const b of boards) { const o = document.createElement('option'); o.textContent = b.id; $('board').append(o); }
  connect();
});
$('board').onchange = connect; $('window').onchange = connect;
</script></body></html>`;
}
