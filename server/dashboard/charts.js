/**
 * The pipeline's live charts, drawn by uPlot (served by the app from the pinned `uplot` package)
 * from `GET /v1/stats`: the service samples its counters every second and computes the rates;
 * this module only appends each new sample and redraws.
 */
import { getJson } from './api.js';

/** Samples kept on screen: five minutes at one a second, as the service keeps. */
const KEEP = 300;
const HEIGHT = 170;

const COLORS = {
  blue: '#58a6ff',
  green: '#3fb950',
  orange: '#d29922',
  red: '#f85149',
  muted: '#8b98a8',
  line: '#2a3340',
};

/**
 * @example
 * const charts = new PipelineCharts(document);
 * charts.start(); // polls /v1/stats every second
 */
export class PipelineCharts {
  constructor(doc) {
    this.doc = doc;
    this.samples = [];
    this.charts = {};
    this.body = undefined;
    this.timer = undefined;
    window.addEventListener('resize', () => this.resize());
  }

  start() {
    const poll = async () => {
      try {
        const since = this.samples.at(-1)?.at ?? 0;
        const body = await getJson(`/v1/stats?since=${since}`);
        this.body = body;
        this.samples.push(...body.samples);
        if (this.samples.length > KEEP) this.samples.splice(0, this.samples.length - KEEP);
        this.draw();
        this.describe();
      } catch (error) {
        this.doc.getElementById('stats-meta').textContent = `stats unavailable: ${error.message}`;
      }
      this.timer = setTimeout(poll, this.body?.intervalMs ?? 1000);
    };
    void poll();
  }

  describe() {
    const { workersInProcess, partitions } = this.body;
    const parts = [`${partitions} partitions`, `${this.samples.length} samples, one a second`];
    if (!workersInProcess)
      parts.push(
        'no workers in this process: applied, freshness, late and dead letters are measured where the workers run (their /metrics); the backlog is read from Redis',
      );
    this.doc.getElementById('stats-meta').textContent = parts.join(' · ');
  }

  draw() {
    if (this.samples.length === 0) return;
    const x = this.samples.map((s) => s.at / 1000);
    const col = (field) => this.samples.map((s) => s[field]);
    this.plot(
      'rates',
      [
        // Drawn wider, under `applied`: the two lines coincide while the workers keep up.
        { label: 'accepted', stroke: COLORS.blue, width: 4 },
        { label: 'applied', stroke: COLORS.green },
      ],
      [x, col('ingestedPerSecond'), col('appliedPerSecond')],
    );
    this.plot(
      'freshness',
      [
        { label: 'p50', stroke: COLORS.green },
        { label: 'p99', stroke: COLORS.orange },
      ],
      [x, col('freshnessP50Ms'), col('freshnessP99Ms')],
    );
    const partitions = this.body.partitions;
    this.plot(
      'backlog',
      Array.from({ length: partitions }, (_, p) => ({
        label: `p${p}`,
        stroke: `hsl(${Math.round((360 * p) / partitions)}, 70%, 60%)`,
      })),
      [x, ...Array.from({ length: partitions }, (_, p) => this.samples.map((s) => s.backlog?.[p] ?? null))],
    );
    this.plot(
      'problems',
      [
        { label: 'late', stroke: COLORS.orange },
        { label: 'dead letters', stroke: COLORS.red },
      ],
      [x, col('lateEventsPerSecond'), col('deadLettersPerSecond')],
    );
  }

  /** Creates a chart on first use, then only hands it new data. */
  plot(name, series, data) {
    const existing = this.charts[name];
    if (existing && existing.series.length === series.length + 1) {
      existing.setData(data);
      return;
    }
    existing?.destroy();
    const figure = this.doc.getElementById(`chart-${name}`);
    const axis = {
      stroke: COLORS.muted,
      grid: { stroke: COLORS.line, width: 1 },
      ticks: { stroke: COLORS.line },
    };
    this.charts[name] = new window.uPlot(
      {
        width: chartWidth(figure),
        height: HEIGHT,
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max ?? 1, min ?? 0)] } },
        series: [{}, ...series.map((s) => ({ width: 1.5, ...s, spanGaps: false, points: { show: false } }))],
        axes: [axis, { ...axis, size: 50 }],
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      figure,
    );
  }

  resize() {
    for (const [name, chart] of Object.entries(this.charts)) {
      chart.setSize({ width: chartWidth(this.doc.getElementById(`chart-${name}`)), height: HEIGHT });
    }
  }
}

function chartWidth(figure) {
  return Math.max(240, Math.floor(figure.clientWidth || 400));
}
