// Chaos: the foundation killed with SIGKILL mid-migration and back 40 s later on its data file. With
// --outage-wait 20s the run pauses (exit 3, the steps in flight in doubt, none failed); `migrate --resume`
// after the restart reconciles them with the CC and completes, exit 0.
import { describe, it } from 'vitest'
import { migrateThroughFoundationRestart } from './outage.js'
import { chaosSeed } from './support.js'

const SEED = chaosSeed()

describe(`chaos: the foundation killed and restarted mid-migration (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('pauses past --outage-wait 20s in a 40 s outage, and --resume completes: one flip per app, journal matching the CC', async () => {
    await migrateThroughFoundationRestart({ outageMs: 40_000, outageWait: '20s', seed: SEED })
  })
})
