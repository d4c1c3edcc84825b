import { availableParallelism } from 'node:os'
import { configDefaults, defineConfig } from 'vitest/config'

// Files that set the process's environment before their imports (ink's colour library and the terminal size
// are read when a module loads): each runs in a Node process of its own, so what they set reaches no other file.
const OWN_PROCESS = ['test/ui/dashboard/dashboard.test.tsx', 'test/ui/dashboard/no-color.test.tsx']

export default defineConfig({
  test: {
    // The chaos suite (kills, outages, faults in real time) runs on its own: npm run test:chaos.
    exclude: [...configDefaults.exclude, 'test/chaos/**'],
    globalSetup: ['test/support/temp-root.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest runs one file at a time on a 2-core machine by default (cores - 1 workers). Much of the suite
    // waits, on cfctl processes it spawned, on foundations over HTTP and on migrations paced in real time, so
    // two workers per core keep the cores busy (on the 2-core machine the suite's CPU is ~120 s, and its files
    // take ~320 s of wall time between them; four workers take a fifth off the suite's time against two).
    maxWorkers: availableParallelism() * 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: [...configDefaults.exclude, 'test/chaos/**', ...OWN_PROCESS],
          // A worker runs file after file, keeping the modules it loaded (Node's start and the import of
          // src/, ink, oclif and undici are paid once per worker, not once per file: about a third of the
          // suite's CPU). Every file starts its own foundations, stores and journals; none changes a global.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'own-process', include: OWN_PROCESS } },
    ],
  },
})
