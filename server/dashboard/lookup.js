/**
 * The user look-up: a user's rank, score, total and percentile in the shown window, the users
 * around them and their friends' ranking, read from the public API and refreshed while shown.
 */
import { boardPath, displayName, getJson, windowQuery } from './api.js';
import { formatScore } from './topTable.js';

/** How often a shown user is read again, ms. */
const REFRESH_MS = 2000;

/**
 * @example
 * const lookup = new UserLookup(document, () => ({ board: 'global', window: 'all' }));
 * lookup.show('ann');
 */
export class UserLookup {
  constructor(doc, view) {
    this.doc = doc;
    this.view = view;
    this.userId = undefined;
    this.reading = 0;
    this.timer = setInterval(() => {
      if (this.userId !== undefined) void this.read();
    }, REFRESH_MS);
    const form = doc.getElementById('lookup-form');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.show(doc.getElementById('lookup-user').value.trim());
    });
  }

  /** Shows `userId` (and keeps it shown across board and window changes). */
  show(userId) {
    if (!userId) return;
    this.userId = userId;
    this.doc.getElementById('lookup-user').value = userId;
    return this.read();
  }

  /** Reads the shown user again (the board, window or instant changed). */
  refresh() {
    if (this.userId !== undefined) return this.read();
  }

  async read() {
    const userId = this.userId;
    const view = this.view();
    const reading = ++this.reading;
    const q = (extra) => windowQuery(view, extra);
    const message = this.doc.getElementById('lookup-message');
    const result = this.doc.getElementById('lookup-result');
    try {
      const [standing, around, friends] = await Promise.all([
        getJson(`${boardPath(view.board, 'users', userId)}?${q()}`),
        getJson(`${boardPath(view.board, 'users', userId, 'around')}?${q({ n: 5 })}`),
        getJson(`${boardPath(view.board, 'users', userId, 'friends')}?${q({ k: 50 })}`),
      ]);
      if (reading !== this.reading) return; // a newer read started meanwhile
      this.fillStanding(standing);
      fillEntries(result.querySelector('#around tbody'), around.entries, userId);
      fillEntries(result.querySelector('#friends tbody'), friends.entries, userId);
      result.hidden = false;
      message.textContent =
        friends.entries.length <= 1
          ? 'No friend of this user has a score here (PUT /v1/users/:id/friends).'
          : '';
    } catch (error) {
      if (reading !== this.reading) return;
      result.hidden = true;
      message.textContent =
        error.status === 404 ? `${userId}: ${error.message}` : `look-up failed: ${error.message}`;
    }
  }

  fillStanding(standing) {
    const items = [
      ['Rank', `#${standing.rank}`],
      ['Score', formatScore(standing.score)],
      ['Percentile', `${Math.round(standing.percentile * 10) / 10}`],
      ['Ranked users', standing.total.toLocaleString('en-US')],
    ];
    // The grid reads row by row: the labels, then the values.
    const dts = items.map(([label]) => {
      const dt = this.doc.createElement('dt');
      dt.textContent = label;
      return dt;
    });
    const dds = items.map(([label, value]) => {
      const dd = this.doc.createElement('dd');
      dd.textContent = value;
      dd.dataset.field = label.toLowerCase().replace(/ /g, '-');
      return dd;
    });
    this.doc.getElementById('standing').replaceChildren(...dts, ...dds);
  }
}

/** A small ranked table (tens of rows, read every few seconds): rebuilt whole. */
function fillEntries(tbody, entries, me) {
  tbody.replaceChildren(
    ...entries.map((entry) => {
      const row = document.createElement('tr');
      row.dataset.user = entry.userId;
      if (entry.userId === me) row.className = 'me';
      for (const [text, className] of [
        [String(entry.rank), 'num'],
        [displayName(entry), ''],
        [formatScore(entry.score), 'num'],
      ]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (className) td.className = className;
        row.append(td);
      }
      return row;
    }),
  );
}
