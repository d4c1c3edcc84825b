export function unsupportedNode(version: string): string | undefined
export function requireSupportedNode(): void
