import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run the workspace package from its sources, so no build is needed before `npm test`.
    alias: {
      'redis-streams-consumer-groups': fileURLToPath(
        new URL('./consumer-groups/src/index.ts', import.meta.url),
      ),
    },
  },
  test: {
    include: [
      'test/**/*.test.ts',
      'consumer-groups/test/**/*.test.ts',
      'server/**/*.test.ts',
      'examples/**/*.test.ts',
    ],
    globalSetup: ['test/support/globalSetup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
