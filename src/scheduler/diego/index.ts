// The Diego engine of the embedded foundation. `Diego` is the RuntimeBackend; the rest is exported for
// tests, benchmarks and tools that want the pure decisions on their own.

export * from './auction.js'
export * from './auctioneer.js'
export * from './bbs.js'
export * from './converge.js'
export * from './converger.js'
export * from './diego.js'
export * from './rep.js'
export * from './restart-calculator.js'
export * from './route-emitter.js'
