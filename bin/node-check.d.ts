export function unsupportedNode(version: string): { message: string; hint: string } | undefined
export function requireSupportedNode(argv?: readonly string[]): void
