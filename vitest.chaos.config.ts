import { defineConfig } from 'vitest/config'

// The chaos suite (test/chaos): cfctl killed with SIGKILL, the foundation killed and restarted, a faulting
// proxy, two operators. Minutes of real time each scenario waits out, so it runs apart from `npm test`,
// after it in .ci/run, a file per worker.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/support/temp-root.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: '100%',
  },
})
