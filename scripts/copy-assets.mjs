// Copies the Lua scripts of the root package next to the compiled JavaScript, so that the
// script loader finds them by the same relative path in `src` and in `dist`.
import { cpSync, existsSync } from 'node:fs';

for (const dir of ['operators/lua', 'topology/lua']) {
  if (existsSync(dir)) cpSync(dir, `dist/${dir}`, { recursive: true });
}
