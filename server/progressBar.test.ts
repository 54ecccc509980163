import { describe, expect, it } from 'vitest';
import { ProgressBar } from './progressBar.js';

const sink = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, columns: 100, write: (text: string) => chunks.push(text) } };
};

describe('ProgressBar', () => {
  it('redraws one line in place on a terminal and ends it', () => {
    const { chunks, out } = sink(true);
    const bar = new ProgressBar(out, 'replay', 'events', 0);
    bar.update({ done: 250, total: 1000, rate: 500, etaMs: 1500 });
    bar.update({ done: 1000, total: 1000, rate: 500, etaMs: 0 }, true);
    expect(chunks[0]).toMatch(/^\rreplay \[#+-+\] {2}25% 250\/1,000 events {2}500 events\/s {2}ETA 2s/);
    expect(chunks[0]!.endsWith('\u001b[K'), 'clears the rest of the line').toBe(true);
    expect(chunks[1]).toMatch(/^\rreplay \[#+\] 100% 1,000\/1,000 events/);
    expect(chunks.at(-1)).toBe('\n');
  });

  it('writes plain lines elsewhere, at most one per interval unless final', () => {
    const { chunks, out } = sink(false);
    const bar = new ProgressBar(out, 'replay', 'events', 60_000);
    bar.update({ done: 1, total: 10, rate: 1, etaMs: 125_000 });
    bar.update({ done: 2, total: 10, rate: 1, etaMs: 8000 });
    bar.update({ done: 12, total: 10, rate: 1, etaMs: undefined }, true);
    expect(chunks).toEqual([
      'replay:  10% 1/10 events  1 events/s  ETA 2m05s\n',
      'replay: 100% 12/12 events  1 events/s  ETA 0s\n',
    ]);
  });
});
