/**
 * The live top: one table row per user, kept and reused across updates (keyed by user id), so an
 * update touches only the cells and positions that changed. Updates arriving faster than the
 * screen refreshes are coalesced: only the newest is drawn, once per animation frame.
 */
import { ago, displayName } from './api.js';

/** How long a rank change stays marked after the move, ms. */
const MOVE_SHOWN_MS = 10_000;

/**
 * @example
 * const table = new TopTable(document.querySelector('#top-rows'), (userId) => lookUp(userId));
 * table.update(top); // the body of /top or of a live `top` event
 */
export class TopTable {
  constructor(tbody, onPick) {
    this.tbody = tbody;
    this.onPick = onPick;
    /** userId -> { row, cells, rank, score, changedAt, move } */
    this.rows = new Map();
    this.pending = undefined;
    this.frame = 0;
    this.renders = 0;
    this.last = undefined;
    tbody.addEventListener('click', (event) => {
      const row = event.target.closest('tr');
      if (row?.dataset.user) this.onPick(row.dataset.user);
    });
  }

  /** Schedules `top` to be drawn at the next frame; a newer one before then replaces it. */
  update(top) {
    this.pending = top;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Forgets every row (another board, window or instant: rank changes would compare apples and pears). */
  reset() {
    this.rows.clear();
    this.tbody.replaceChildren();
    this.last = undefined;
  }

  flush() {
    this.frame = 0;
    const top = this.pending;
    this.pending = undefined;
    if (!top) return;
    const now = Date.now();
    const first = this.rows.size === 0;
    const seen = new Set();
    let cursor = this.tbody.firstChild;
    for (const entry of top.entries) {
      seen.add(entry.userId);
      let state = this.rows.get(entry.userId);
      if (!state) {
        state = this.createRow(entry.userId);
        state.move = first ? undefined : { label: 'new', kind: 'new', at: now };
        this.rows.set(entry.userId, state);
      } else {
        if (state.rank !== entry.rank) {
          const delta = state.rank - entry.rank;
          state.move = {
            label: delta > 0 ? `▲${delta}` : `▼${-delta}`,
            kind: delta > 0 ? 'up' : 'down',
            at: now,
          };
        }
        if (state.score !== entry.score) state.changedAt = now;
      }
      state.rank = entry.rank;
      state.score = entry.score;
      this.fill(state, entry, now);
      if (state.row === cursor) cursor = cursor.nextSibling;
      else this.tbody.insertBefore(state.row, cursor);
    }
    // Whatever is left after the last placed row dropped out of the top.
    while (cursor) {
      const next = cursor.nextSibling;
      this.rows.delete(cursor.dataset.user);
      cursor.remove();
      cursor = next;
    }
    for (const userId of this.rows.keys()) if (!seen.has(userId)) this.rows.delete(userId);
    this.last = top;
    this.renders++;
  }

  /** Refreshes the relative times and lets old rank changes fade (called every second). */
  tick(now = Date.now()) {
    for (const state of this.rows.values()) this.fillTimes(state, now);
  }

  createRow(userId) {
    const row = document.createElement('tr');
    row.dataset.user = userId;
    const cells = ['num', 'move', '', 'num', 'num changed'].map((className) => {
      const td = document.createElement('td');
      if (className) td.className = className;
      row.append(td);
      return td;
    });
    const name = document.createElement('span');
    const id = document.createElement('span');
    id.className = 'user-id';
    cells[2].append(name, id);
    return { row, cells, name, id, rank: undefined, score: undefined, changedAt: undefined, move: undefined };
  }

  fill(state, entry, now) {
    setText(state.cells[0], String(entry.rank));
    setText(state.name, displayName(entry));
    setText(state.id, entry.profile ? entry.userId : '');
    setText(state.cells[3], formatScore(entry.score));
    this.fillTimes(state, now);
  }

  fillTimes(state, now) {
    const move = state.move && now - state.move.at < MOVE_SHOWN_MS ? state.move : undefined;
    const kind = move ? move.kind : '';
    if (state.row.className !== kind) state.row.className = kind;
    setText(state.cells[1], move ? move.label : '');
    setText(state.cells[4], state.changedAt ? ago(state.changedAt, now) : '');
  }
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Scores as the service stores them (doubles), without a float's noise. */
export function formatScore(score) {
  return Number.isInteger(score) ? score.toLocaleString('en-US') : String(Math.round(score * 1000) / 1000);
}
