export const HEAP_FLAGS: string[]
export function childEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
export function relaunchArgs(argv?: string[], execArgv?: string[], env?: NodeJS.ProcessEnv): string[] | undefined
export function relaunchWithHeapFlags(): boolean
