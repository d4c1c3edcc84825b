export const HEAP_FLAGS: string[]
export function relaunchArgs(argv?: string[], execArgv?: string[], env?: NodeJS.ProcessEnv): string[] | undefined
export function relaunchWithHeapFlags(): boolean
