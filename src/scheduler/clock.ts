// The engine's clock is the project's one clock (src/clock.ts); kept here so the scheduler reads as DESIGN.md lays it out.
export * from '../clock.js'
