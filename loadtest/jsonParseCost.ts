/**
 * A scratch measurement, not a test: what a body of up to 8 MiB costs the event loop, by shape,
 * with and without the structure scan the edge runs before `JSON.parse` (`server/jsonShape.ts`).
 * Shapes: legitimate batches, the worst shapes `JSON.parse` meets, and the worst shapes that pass
 * the scan's limits (32 levels, 65,536 of `,`, `[` and `{`).
 *
 *   npx tsx loadtest/jsonParseCost.ts
 *
 * Prints one line per shape: its size, the median of 5 runs of the scan and of `JSON.parse`
 * (ms), and the scan's verdict (what the edge answers instead of parsing).
 */
import { jsonShapeExcess } from '../server/jsonShape.js';
import { LARGE_BODY, MAX_JSON_DEPTH } from '../server/routes/http.js';

const MiB = 1024 * 1024;
const SIZE = 8 * MiB - 64;

/** `[unit,unit,...]` filling `SIZE`. */
const filled = (unit: string) => `[${new Array(Math.floor(SIZE / (unit.length + 1))).fill(unit).join(',')}]`;

const event = (i: number, pad = 0) =>
  JSON.stringify({
    board: 'global',
    userId: `user-${i}`,
    value: i,
    ts: 1_763_856_000_000,
    eventId: `event-${i}-${'x'.repeat(pad)}`,
  });

const shapes: Record<string, () => string> = {
  'batch of 10,000 events': () =>
    `{"events":[${Array.from({ length: 10_000 }, (_, i) => event(i)).join(',')}]}`,
  'batch of 10,000 events, padded to 8 MiB': () =>
    `{"events":[${Array.from({ length: 10_000 }, (_, i) => event(i, 730)).join(',')}]}`,
  '4 million zeros': () => filled('0'),
  '2.8 million empty objects': () => filled('{}'),
  '2 million empty arrays': () => filled('[]'),
  'one object of 700,000 keys': () => `{${Array.from({ length: 700_000 }, (_, i) => `"k${i}":0`).join(',')}}`,
  '3 million nested arrays (6 MiB)': () => '['.repeat(3 * MiB) + ']'.repeat(3 * MiB),
  // The worst that passes the scan: as many values as allowed, as costly as each can be (an
  // object in an array counts twice, its `{` and its `,`).
  'passes: 32,767 empty objects': () => `[${new Array(32_767).fill('{}').join(',')}]`,
  'passes: 65,535 keys of 120 bytes': () =>
    `{${Array.from({ length: 65_535 }, (_, i) => `"${String(i).padStart(120, 'k')}":0`).join(',')}}`,
  'passes: 65,535 strings of escapes': () =>
    `[${new Array(65_535).fill(`"${'\\u00e9'.repeat(20)}"`).join(',')}]`,
  'passes: one 8 MiB number': () => `[${'1'.repeat(SIZE)}]`,
  'passes: 8 MiB of spaces': () => `[${' '.repeat(SIZE)}1]`,
};

const median = (run: () => void) => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2]!;
};

const limits = { maxDepth: MAX_JSON_DEPTH, maxValues: LARGE_BODY.maxValues };
console.log('shape | MiB | scan ms | JSON.parse ms | scan verdict');
for (const [name, build] of Object.entries(shapes)) {
  const text = build();
  const verdict = jsonShapeExcess(text, limits) ?? 'parse';
  const scan = median(() => jsonShapeExcess(text, limits));
  const parse = median(() => {
    try {
      JSON.parse(text);
    } catch {
      // the nested arrays fail past V8's own limit
    }
  });
  const mib = (text.length / MiB).toFixed(2);
  console.log(`${name} | ${mib} | ${scan.toFixed(1)} | ${parse.toFixed(1)} | ${verdict}`);
}
