// Chaos: the foundation killed with SIGKILL mid-migration and back 15 s later on its data file, longer than
// the CLI's retry budget (about 4 s): the run waits the outage out (--outage-wait 10m) and completes, exit 0.
import { describe, it } from 'vitest'
import { migrateThroughFoundationRestart } from './outage.js'
import { chaosSeed } from './support.js'

const SEED = chaosSeed()

describe(`chaos: the foundation killed and restarted mid-migration (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('waits out a 15 s outage: exit 0, one flip per app, every app running on Diego, journal matching the CC', async () => {
    await migrateThroughFoundationRestart({ outageMs: 15_000, seed: SEED })
  })
})
