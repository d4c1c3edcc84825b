import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // The chaos suite (kills, outages, faults in real time) runs on its own: npm run test:chaos.
    exclude: [...configDefaults.exclude, 'test/chaos/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest runs one file at a time on a 2-core machine by default (cores - 1 workers). Most of the suite
    // waits, on cfctl processes it spawned and on foundations over HTTP, so a worker per core keeps both busy.
    maxWorkers: '100%',
  },
})
