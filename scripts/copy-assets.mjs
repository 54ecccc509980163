// Copies the files tsc does not emit next to the compiled JavaScript, so that the server finds
// them by the same relative path in the sources and in `dist`: the Lua scripts, and the
// dashboard's page, stylesheet and browser modules.
import { cpSync, existsSync } from 'node:fs';

for (const dir of ['operators/lua', 'topology/lua', 'leaderboard/lua', 'server/dashboard']) {
  if (existsSync(dir)) cpSync(dir, `dist/${dir}`, { recursive: true });
}
