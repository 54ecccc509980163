/**
 * `npm run loadtest -- <scenario> [options]`: runs one scenario of loadtest/k6/scenarios.json
 * with k6 when it is installed (`K6_BINARY`, or `k6` on the PATH), else with the autocannon
 * fallback runner (same definition, same requests and checks, the thresholds judged here).
 * Without --url it starts the service itself, as `npm start` does, in a temporary directory.
 * Exits 1 when a threshold fails.
 */
import { parseArgs } from 'node:util';
import { loadDefinition, type Scales } from './scenarios/definition.js';
import { runWithAutocannon } from './scenarios/fallbackRunner.js';
import { k6Binary, k6Installed, runWithK6 } from './scenarios/k6Runner.js';
import { type LocalService, startLocalService } from './scenarios/localService.js';
import { formatSummary } from './scenarios/summary.js';
import type { Target } from './scenarios/target.js';

const USAGE = `usage: npm run loadtest -- <scenario> [options]

options:
  --url URL              the service to load (default: $BASE_URL; unset: start one as npm start does,
                         with a private redis-server and PGlite in a temporary directory)
  --key KEY              API key with the ingest scope, plus admin to create the board
                         (default: $API_KEY; a started service gets a generated key)
  --read-key KEY         key sent with reads (default: $READ_KEY; unset: reads carry no key)
  --duration-scale X     multiply every duration (0.05: a 40 s scenario in 2 s), default 1
  --rate-scale X         multiply every rate and VU count, default 1
  --runner k6|autocannon default: k6 when it runs ($K6_BINARY, else k6 on the PATH), else autocannon
  --list                 list the scenarios

k6 runs are for k6 v1.0.0 or newer (the scripts check it).`;

function positiveNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value))
    throw new Error(`${name} must be a number above 0, not '${text}'`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      'read-key': { type: 'string' },
      'duration-scale': { type: 'string' },
      'rate-scale': { type: 'string' },
      runner: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const loaded = await loadDefinition();
  const tests = Object.entries(loaded.definition.tests);
  if (values.list || values.help || positionals.length !== 1) {
    if (!values.list) console.log(`${USAGE}\n`);
    console.log('scenarios (loadtest/k6/scenarios.json):');
    for (const [name, test] of tests) console.log(`  ${name.padEnd(14)} ${test.description}`);
    return values.list || values.help ? 0 : 1;
  }
  const test = positionals[0]!;
  loaded.plan.testOf(loaded.definition, test);
  const scales: Scales = {
    duration: positiveNumber(values['duration-scale'], '--duration-scale') ?? 1,
    rate: positiveNumber(values['rate-scale'], '--rate-scale') ?? 1,
  };
  const runner = values.runner ?? (k6Installed() ? 'k6' : 'autocannon');
  if (runner !== 'k6' && runner !== 'autocannon')
    throw new Error(`--runner must be k6 or autocannon, not '${runner}'`);
  if (runner === 'k6' && !k6Installed()) {
    throw new Error(
      `--runner k6: '${k6Binary()}' does not run; set K6_BINARY to a k6 binary or put k6 on the PATH`,
    );
  }

  const url = values.url ?? process.env.BASE_URL;
  let service: LocalService | undefined;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    void (service?.stop() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  let target: Target;
  if (url) {
    const apiKey = values.key ?? process.env.API_KEY;
    if (!apiKey) throw new Error('--key (or API_KEY) is required with --url: a key with the ingest scope');
    target = { url: url.replace(/\/+$/, ''), apiKey, readKey: values['read-key'] ?? process.env.READ_KEY };
  } else {
    console.log(
      'starting the service (leaderboard serve, private redis-server, PGlite) in a temporary directory…',
    );
    service = await startLocalService();
    console.log(`service ready at ${service.url}`);
    target = {
      url: service.url,
      apiKey: service.apiKey,
      readKey: values['read-key'] ?? process.env.READ_KEY,
    };
  }

  try {
    console.log(
      `${test} with ${runner} against ${target.url} (duration x${scales.duration}, rate x${scales.rate})`,
    );
    if (runner === 'k6') {
      const code = await runWithK6(loaded.dir, test, target, scales);
      return code === 0 ? 0 : 1;
    }
    const outcome = await runWithAutocannon({
      test,
      target,
      scales,
      loaded,
      log: (line) => console.log(line),
    });
    console.log(`\n${formatSummary(outcome)}`);
    return outcome.passed ? 0 : 1;
  } finally {
    await service?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
