// Follows the README's quick start as a newcomer would (`.ci/run` runs it, so the quick start
// cannot rot): it reads the commands from the first ```sh block under "## Quick start" and runs
// each in order, in this checkout. A command that starts the service (`npm start`) is run the way a
// person uses it: it must print the address, the API key and the curl line it promises; the curl
// line must be accepted, the dashboard and /readyz must answer and the event must reach the top;
// then Ctrl-C (SIGINT to its process group) must stop it cleanly. Any other command must exit 0.
//
// The service gets PORT=0 (a free port: the machine may run others) and a temporary DATA_DIR, and
// no REDIS_URL, so it starts its own redis-server as on a newcomer's machine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STARTUP_MS = 180_000;
const STEP_MS = 30_000;

/**
 * The commands of the README's quick-start block, without their comments.
 *
 * @example
 * quickStartCommands('## Quick start\n\n```sh\nnpm start   # go\n```\n'); // ['npm start']
 */
export function quickStartCommands(readme) {
  const section = readme.split(/^## Quick start\s*$/m)[1];
  const block = section && /^```sh\n([\s\S]*?)^```/m.exec(section.split(/^## /m)[0]);
  if (!block) throw new Error('README.md has no ```sh block under "## Quick start"');
  const commands = block[1]
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
  if (commands.length === 0) throw new Error('the quick-start block of README.md holds no command');
  return commands;
}

const startsService = (command) => /^npm (run )?start\b/.test(command);

function log(message) {
  console.log(`quick start: ${message}`);
}

async function runCommand(command) {
  log(`$ ${command}`);
  // `exec`: the signal goes to npm as from a terminal, not to a shell wrapped around it.
  const child = spawn('sh', ['-c', `exec ${command}`], { cwd: root, stdio: 'inherit' });
  const code = await new Promise((resolve) =>
    child.on('exit', (status, signal) => resolve(status ?? signal)),
  );
  if (code !== 0) throw new Error(`\`${command}\` exited with ${code}`);
}

async function until(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function runService(command) {
  log(`$ ${command}   (PORT=0, a temporary DATA_DIR, no REDIS_URL)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'lb-quick-start-'));
  const env = { ...process.env, PORT: '0', DATA_DIR: dataDir };
  delete env.REDIS_URL;
  delete env.API_KEYS;
  // `exec`: the signal goes to npm as from a terminal, not to a shell wrapped around it.
  const child = spawn('sh', ['-c', `exec ${command}`], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    output += chunk;
  });
  let exited;
  const exit = new Promise((resolve) =>
    child.on('exit', (status, signal) => {
      exited = status ?? signal;
      resolve(exited);
    }),
  );
  try {
    const up = await until('the "Leaderboard is up" line', STARTUP_MS, () =>
      exited !== undefined ? { exited } : /Leaderboard is up: (http:\/\/\S+)/.exec(output),
    );
    if (up.exited !== undefined) throw new Error(`\`${command}\` exited with ${up.exited} before it was up`);
    const url = up[1];
    const key = /API key \(all scopes[^)]*\): (\S+)/.exec(output)?.[1];
    const curlLine = /Try: (curl .+)$/m.exec(output)?.[1];
    if (!key) throw new Error('it printed no API key');
    if (!curlLine) throw new Error('it printed no curl line to send a first event');

    if (spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status === 0) {
      const sent = spawnSync('sh', ['-c', `${curlLine} --silent --show-error`], { encoding: 'utf8' });
      if (sent.status !== 0 || !/"accepted":1/.test(sent.stdout)) {
        throw new Error(`the printed curl line did not get its event accepted: ${sent.stdout}${sent.stderr}`);
      }
      log(`the printed curl line answered ${sent.stdout.trim()}`);
    } else {
      const res = await fetch(`${url}/v1/boards/global/events`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ userId: 'ann', value: 10 }),
      });
      if (res.status !== 202) throw new Error(`the first event was answered ${res.status}`);
      log('no curl here: sent the printed first event with fetch, 202');
    }
    const page = await (await fetch(`${url}/`)).text();
    if (!page.includes('<title>Leaderboard</title>')) throw new Error('GET / is not the dashboard');
    await until('/readyz to answer 200', STEP_MS, async () => (await fetch(`${url}/readyz`)).status === 200);
    await until('the first event in /v1/boards/global/top', STEP_MS, async () => {
      const top = await (await fetch(`${url}/v1/boards/global/top`)).json();
      return top.entries.some((e) => e.userId === 'ann');
    });
    log(`${url} served the dashboard, was ready and ranked the first event; pressing Ctrl-C`);
    process.kill(-child.pid, 'SIGINT');
    const code = await Promise.race([
      exit,
      new Promise((resolve) => setTimeout(() => resolve('timeout'), STEP_MS)),
    ]);
    // npm ends itself with the signal it got once its script has exited, as in a terminal.
    if (code !== 0 && code !== 'SIGINT') throw new Error(`after Ctrl-C, \`${command}\` ended with ${code}`);
    if (!/^stopped$/m.test(output)) throw new Error('after Ctrl-C, the service did not print "stopped"');
    if (existsSync(join(dataDir, 'redis', 'url')))
      throw new Error('after Ctrl-C, its redis-server was not stopped');
    log(`stopped cleanly (${code === 0 ? 'exit 0' : 'npm ended with SIGINT, as from a terminal'})`);
  } finally {
    if (exited === undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const all = quickStartCommands(readFileSync(join(root, 'README.md'), 'utf8'));
  // Arguments pick some of the commands (e.g. `node scripts/quick-start.mjs 'npm start'`).
  const wanted = process.argv.slice(2);
  const commands = wanted.length > 0 ? all.filter((c) => wanted.includes(c)) : all;
  if (commands.length === 0) throw new Error(`the quick start has no command ${wanted.join(', ')}`);
  log(
    `the README's quick start: ${all.join(' ; ')}${wanted.length > 0 ? ` (running ${commands.join(' ; ')})` : ''}`,
  );
  for (const command of commands) {
    if (startsService(command)) await runService(command);
    else await runCommand(command);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(`quick start: FAILED: ${error.message}`);
      process.exit(1);
    },
  );
}
