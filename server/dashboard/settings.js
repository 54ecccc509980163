/**
 * The board's settings, rendered from whatever fields its BoardConfig has (policy, order,
 * windows, K, grace, retention, and fields added later), so new options show up untouched.
 */

/** Readable names of the fields known today; any other field shows under its own name. */
const LABELS = {
  id: 'id',
  policy: 'update policy',
  order: 'order',
  windows: 'windows',
  topK: 'top K',
  graceSeconds: 'grace (s)',
  retentionDays: 'retention of closed windows (days)',
  tieBreak: 'tie rule',
  timeZone: 'time zone',
  minValue: 'min value',
  maxValue: 'max value',
};

/**
 * @example
 * renderSettings(document.getElementById('settings'), { id: 'global', policy: 'sum', windows: ['all'] });
 */
export function renderSettings(dl, board) {
  dl.replaceChildren(
    ...Object.entries(board ?? {}).flatMap(([field, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = LABELS[field] ?? field;
      dt.title = field;
      const dd = document.createElement('dd');
      dd.dataset.field = field;
      dd.textContent = formatValue(value);
      return [dt, dd];
    }),
  );
}

function formatValue(value) {
  if (Array.isArray(value)) return value.map(formatValue).join(', ');
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
