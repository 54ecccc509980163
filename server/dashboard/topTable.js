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
    /** The row states in page order, as the last flush left them. */
    this.order = [];
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
    this.order = [];
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
    const wanted = new Map(top.entries.map((entry, i) => [entry.userId, i]));
    // Rows that dropped out of the top go first; the others stay where they are for now.
    for (const [userId, state] of this.rows) {
      if (!wanted.has(userId)) {
        state.row.remove();
        this.rows.delete(userId);
      }
    }
    const states = top.entries.map((entry) => {
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
      return state;
    });
    // Move as few rows as possible: those in the longest run already in the new order stay put
    // (one user climbing or falling 500 places moves one row, not 500), the rest are placed
    // before their successor, from the bottom up.
    // The rows on the page, in their order: what the last flush left, less those just removed.
    const placed = this.order.filter((state) => wanted.has(state.userId));
    const staying = new Set(
      longestIncreasingRun(placed.map((state) => wanted.get(state.userId))).map((i) => placed[i].row),
    );
    let next = null;
    for (let i = states.length - 1; i >= 0; i--) {
      const row = states[i].row;
      if (!staying.has(row)) this.tbody.insertBefore(row, next);
      next = row;
    }
    this.order = states;
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
    return {
      userId,
      row,
      cells,
      name,
      id,
      texts: [],
      kind: '',
      rank: undefined,
      score: undefined,
      changedAt: undefined,
      move: undefined,
    };
  }

  fill(state, entry, now) {
    // Formatting a number costs more than comparing it: format only what changed.
    if (state.texts[0] !== entry.rank) setText(state, 0, state.cells[0], entry.rank);
    setText(state, 1, state.name, displayName(entry));
    setText(state, 2, state.id, entry.profile ? entry.userId : '');
    if (state.shownScore !== entry.score) {
      state.shownScore = entry.score;
      setText(state, 3, state.cells[3], formatScore(entry.score));
    }
    this.fillTimes(state, now);
  }

  fillTimes(state, now) {
    const move = state.move && now - state.move.at < MOVE_SHOWN_MS ? state.move : undefined;
    const kind = move ? move.kind : '';
    if (state.kind !== kind) {
      state.kind = kind;
      state.row.className = kind;
    }
    setText(state, 4, state.cells[1], move ? move.label : '');
    setText(state, 5, state.cells[4], state.changedAt ? ago(state.changedAt, now) : '');
  }
}

/**
 * Writes a cell's text only when it changed, comparing with the text last written (kept in JS): an
 * unchanged row of the 1,000 costs no DOM access at all.
 */
function setText(state, slot, node, text) {
  if (state.texts[slot] === text) return;
  state.texts[slot] = text;
  node.textContent = text;
}

/** Scores as the service stores them (doubles), without a float's noise. */
export function formatScore(score) {
  return Number.isInteger(score) ? INTEGER.format(score) : String(Math.round(score * 1000) / 1000);
}

const INTEGER = new Intl.NumberFormat('en-US');

/**
 * The positions of a longest strictly increasing subsequence of `values` (patience sorting,
 * O(n log n)).
 *
 * @example
 * longestIncreasingRun([1, 2, 0, 3]); // [0, 1, 3]
 */
export function longestIncreasingRun(values) {
  const tails = []; // tails[k]: position of the smallest tail of a run of length k + 1
  const previous = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]] < values[i]) lo = mid + 1;
      else hi = mid;
    }
    previous[i] = lo > 0 ? tails[lo - 1] : -1;
    tails[lo] = i;
  }
  const run = [];
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = previous[i]) run.push(i);
  return run.reverse();
}
