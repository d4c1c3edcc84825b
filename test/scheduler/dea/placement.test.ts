import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chooseDea, type DeaAdvertisement, type PlacementNeed, seededRandom } from '../../../src/scheduler/dea/index.js'

const NOW = 1_000_000

function anAd(
  deaId: string,
  overrides: Partial<Omit<DeaAdvertisement, 'appInstanceCounts'>> & { apps?: Record<string, number> } = {},
): DeaAdvertisement {
  const { apps = {}, ...rest } = overrides
  return {
    deaId,
    zone: 'z1',
    stacks: ['cflinuxfs2'],
    availableMemoryMb: 4096,
    availableDiskMb: 16_384,
    expiresAt: NOW + 10_000,
    appInstanceCounts: new Map(Object.entries(apps)),
    ...rest,
  }
}

const need: PlacementNeed = { appGuid: 'app', memoryMb: 512, diskMb: 1024, stack: 'cflinuxfs2' }
const first = () => 0
const last = () => 0.999_999

function chosen(ads: DeaAdvertisement[], random: () => number = first, n: PlacementNeed = need): string {
  const placement = chooseDea(ads, n, NOW, random)
  if (!placement.ok) throw new Error(`expected a placement, got: ${placement.reason}`)
  return placement.deaId
}

describe('chooseDea (the CC picking a DEA from advertisements)', () => {
  it('only considers DEAs with enough disk, enough memory and the app stack', () => {
    const ads = [
      anAd('small-disk', { availableDiskMb: 512 }),
      anAd('small-memory', { availableMemoryMb: 256 }),
      anAd('other-stack', { stacks: ['windows2012R2'] }),
      anAd('fits'),
    ]
    expect(chosen(ads, first)).toBe('fits')
    expect(chosen(ads, last)).toBe('fits')
  })

  it('ignores stale advertisements: a DEA that has not advertised for the TTL takes no placements', () => {
    const ads = [anAd('stale', { expiresAt: NOW }), anAd('fresh', { availableMemoryMb: 1024 })]
    expect(chosen(ads, first)).toBe('fresh')
    expect(chooseDea([anAd('stale', { expiresAt: NOW - 1 })], need, NOW, first)).toEqual({
      ok: false,
      reason: 'insufficient resources: no DEA is advertising',
    })
  })

  it('prefers the zone with the fewest instances of the app, counting every DEA in the zone', () => {
    // z2 holds two instances on a DEA that is full; the CC still counts them for the zone.
    const ads = [
      anAd('z1-a', { zone: 'z1', apps: { app: 1 } }),
      anAd('z2-full', { zone: 'z2', availableMemoryMb: 0, apps: { app: 2 } }),
      anAd('z2-b', { zone: 'z2' }),
    ]
    expect(chosen(ads, first)).toBe('z1-a')
    expect(chosen(ads, last)).toBe('z1-a')
  })

  it('then prefers the DEAs with the fewest instances of the app', () => {
    const ads = [
      anAd('has-two', { apps: { app: 2 } }),
      anAd('has-one', { apps: { app: 1 } }),
      anAd('has-one-too', { apps: { app: 1, other: 9 } }),
    ]
    const picks = new Set([0, 0.3, 0.6, 0.99].map((r) => chosen(ads, () => r)))
    expect(picks).toEqual(new Set(['has-one', 'has-one-too']))
  })

  it('then keeps the upper half by free memory and picks among them at random', () => {
    const ads = [1000, 4000, 2000, 3000].map((mb) => anAd(`m${mb}`, { availableMemoryMb: mb }))
    const picks = new Set(Array.from({ length: 20 }, (_, i) => chosen(ads, () => i / 20)))
    expect(picks).toEqual(new Set(['m3000', 'm4000']))
  })

  it('says why nothing fits, naming what every advertising DEA lacked', () => {
    expect(chooseDea([anAd('a', { availableDiskMb: 100 })], need, NOW, first)).toEqual({
      ok: false,
      reason: 'insufficient resources: disk (no DEA advertises 1024 MB free)',
    })
    expect(chooseDea([anAd('a', { stacks: ['windows2012R2'] })], need, NOW, first)).toEqual({
      ok: false,
      reason: 'found no DEA for stack "cflinuxfs2"',
    })
    expect(chooseDea([anAd('a', { availableMemoryMb: 100 })], need, NOW, first)).toEqual({
      ok: false,
      reason: 'insufficient resources: memory (no DEA advertises 512 MB free)',
    })
    expect(chooseDea([], need, NOW, first)).toEqual({
      ok: false,
      reason: 'insufficient resources: no DEA is advertising',
    })
  })

  it('refuses a random source that leaves [0, 1)', () => {
    expect(() => chooseDea([anAd('a')], need, NOW, () => 1)).toThrow(
      /random\(\) must return a number in \[0, 1\), got 1/,
    )
  })

  it('always picks what the CC filter chain (written out with sorts) would allow, and can pick each of them', () => {
    const adArb = fc.record({
      zone: fc.constantFrom('z1', 'z2', 'z3'),
      availableMemoryMb: fc.integer({ min: 0, max: 4096 }),
      availableDiskMb: fc.integer({ min: 0, max: 4096 }),
      windows: fc.boolean(),
      stale: fc.boolean(),
      count: fc.integer({ min: 0, max: 3 }),
    })
    fc.assert(
      fc.property(fc.array(adArb, { maxLength: 12 }), fc.integer({ min: 64, max: 2048 }), (raw, memoryMb) => {
        const ads = raw.map((r, i) =>
          anAd(`dea-${i}`, {
            zone: r.zone,
            availableMemoryMb: r.availableMemoryMb,
            availableDiskMb: r.availableDiskMb,
            stacks: r.windows ? ['windows2012R2'] : ['cflinuxfs2'],
            expiresAt: r.stale ? NOW : NOW + 1,
            apps: { app: r.count },
          }),
        )
        const n = { ...need, memoryMb, diskMb: 1024 }
        const allowed = referenceChoices(ads, n)
        const picks = new Set<string>()
        for (let i = 0; i < 64; i++) {
          const placement = chooseDea(ads, n, NOW, () => i / 64)
          expect(placement.ok).toBe(allowed.length > 0)
          if (placement.ok) picks.add(placement.deaId)
        }
        expect([...picks].sort()).toEqual([...allowed].sort())
      }),
    )
  })
})

/** cloud_controller_ng's EligibleAdvertisementFilter, step by step, for comparison. */
function referenceChoices(ads: DeaAdvertisement[], n: PlacementNeed): string[] {
  const fresh = ads.filter((ad) => ad.expiresAt > NOW)
  const count = (ad: DeaAdvertisement) => ad.appInstanceCounts.get(n.appGuid) ?? 0
  const zoneCount = (zone: string) => fresh.filter((ad) => ad.zone === zone).reduce((sum, ad) => sum + count(ad), 0)
  let list = fresh.filter((ad) => ad.availableDiskMb >= n.diskMb)
  list = list.filter((ad) => ad.availableMemoryMb >= n.memoryMb && ad.stacks.includes(n.stack))
  if (list.length === 0) return []
  const fewestZone = Math.min(...list.map((ad) => zoneCount(ad.zone)))
  list = list.filter((ad) => zoneCount(ad.zone) === fewestZone)
  const fewest = Math.min(...list.map(count))
  list = list.filter((ad) => count(ad) === fewest)
  list.sort((a, b) => a.availableMemoryMb - b.availableMemoryMb)
  const floor = list[Math.floor(list.length / 2)]!.availableMemoryMb
  return list.filter((ad) => ad.availableMemoryMb >= floor).map((ad) => ad.deaId)
}

describe('seededRandom', () => {
  it('gives the same sequence for the same seed, in [0, 1)', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    const xs = Array.from({ length: 1000 }, () => a())
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs)
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    expect(new Set(xs).size).toBeGreaterThan(990)
    expect(seededRandom(43)()).not.toBe(xs[0])
  })

  it('rejects a seed that is not an integer', () => {
    expect(() => seededRandom(1.5)).toThrow(/seed must be an integer/)
  })
})
