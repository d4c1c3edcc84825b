// Compact JWTs signed with HS256 (HMAC-SHA256), as UAA signs tokens with a symmetric key
// (its `legacy-token-key`). Only what the token endpoint and the API need: sign and verify.
import { createHmac, timingSafeEqual } from 'node:crypto'

const HEADER = base64url(JSON.stringify({ alg: 'HS256', kid: 'legacy-token-key', typ: 'JWT' }))

export function signJwt(claims: object, key: Buffer): string {
  const payload = base64url(JSON.stringify(claims))
  const signature = createHmac('sha256', key).update(`${HEADER}.${payload}`).digest('base64url')
  return `${HEADER}.${payload}.${signature}`
}

/** The claims of a token signed with `key`, or null if it is not one (malformed, other key, other alg). */
export function verifyJwt(token: string, key: Buffer): Record<string, unknown> | null {
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) return null
  const header = decodeJson(token.slice(0, first))
  if (header?.alg !== 'HS256') return null
  const expected = createHmac('sha256', key).update(token.slice(0, second)).digest()
  const given = Buffer.from(token.slice(second + 1), 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  return decodeJson(token.slice(first + 1, second))
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}
