// The engine's one PRNG: mulberry32, a tiny, fast generator with a 32-bit state. Seeded, so the same
// seed gives the same fleet and the same placements on every run, which is what tests and benches compare.
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
