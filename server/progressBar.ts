/**
 * Progress of a long command: a bar redrawn in place on a terminal, plain lines elsewhere (CI logs,
 * pipes), at most every `intervalMs` (and always for the last report).
 */
export interface ProgressFigures {
  done: number;
  total: number;
  /** Items per second. */
  rate: number;
  /** Estimated time left, ms. */
  etaMs: number | undefined;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly label: string,
    private readonly unit: string,
    private readonly intervalMs = out.isTTY ? 100 : 1000,
  ) {}

  update(figures: ProgressFigures, final = false): void {
    const now = Date.now();
    if (!final && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const total = Math.max(figures.total, figures.done);
    const share = total > 0 ? figures.done / total : 1;
    const text = `${fmt(figures.done)}/${fmt(total)} ${this.unit}  ${fmt(Math.round(figures.rate))} ${this.unit}/s  ETA ${eta(final ? 0 : figures.etaMs)}`;
    if (this.out.isTTY) {
      const width = Math.max(
        10,
        Math.min(40, (this.out.columns ?? 80) - text.length - this.label.length - 12),
      );
      const filled = Math.round(share * width);
      this.out.write(
        `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct(share)} ${text}\x1b[K`,
      );
      this.drawn = true;
      if (final) this.finish();
    } else {
      this.out.write(`${this.label}: ${pct(share)} ${text}\n`);
    }
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function pct(share: number): string {
  return `${Math.floor(share * 100)}%`.padStart(4);
}

function eta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
