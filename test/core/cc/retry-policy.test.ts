import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay, filter, filterIn, nameFilters, parseRetryAfter } from '../../../src/core/cc/index.js'
import { NAMES_PER_FILTER, pagePath } from '../../../src/core/cc/query.js'
import { redact } from '../../../src/core/cc/redact.js'

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)

describe('Retry-After', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0)
  })

  it('reads an HTTP date relative to now, and a past one as no wait', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', NOW)).toBe(30_000)
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', NOW)).toBe(0)
    expect(parseRetryAfter('Thursday, 01-Jan-26 12:01:00 GMT', NOW)).toBe(60_000)
  })

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined()
    expect(parseRetryAfter('', NOW)).toBeUndefined()
    expect(parseRetryAfter('-5', NOW)).toBeUndefined()
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined()
    expect(parseRetryAfter('soon', NOW)).toBeUndefined()
    expect(parseRetryAfter('2026', NOW)).toBe(2_026_000)
  })
})

describe('backoff', () => {
  it('doubles from 250 ms up to a cap of 8 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, () => 1))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 8000, 8000,
    ])
  })

  it('always waits between half and all of the ceiling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (retry, r) => {
        const ceiling = Math.min(8000, 250 * 2 ** (retry - 1))
        const wait = backoffDelay(retry, () => r)
        return wait >= ceiling / 2 && wait <= ceiling
      }),
    )
  })
})

describe('q filters', () => {
  it('escapes a semicolon, which would otherwise start another filter', () => {
    expect(filter('name', 'a;b')).toBe('name:a;;b')
    expect(filterIn('name', ['x;y', 'z'])).toBe('name IN x;;y,z')
  })

  it('cannot put a name with a comma in an IN filter, so asks for it on its own', () => {
    expect(() => filterIn('name', ['a,b'])).toThrow(/contains ','/)
    expect(nameFilters(['a', 'b,c', 'd'])).toEqual(['name:b,c', 'name IN a,d'])
  })

  it('batches names and drops repeats', () => {
    const names = Array.from({ length: NAMES_PER_FILTER + 1 }, (_, i) => `n${i}`)
    const filters = nameFilters([...names, 'n0'])
    expect(filters).toHaveLength(2)
    expect(filters[1]).toBe(`name:n${NAMES_PER_FILTER}`)
  })

  it('builds a page path with the filters, the page size and the page', () => {
    const path = pagePath(
      '/v2/apps',
      { q: ['name IN a,b', 'diego:true'], params: { 'inline-relations-depth': 1 } },
      3,
      100,
    )
    const url = new URL(`http://x${path}`)
    expect(url.pathname).toBe('/v2/apps')
    expect(url.searchParams.getAll('q')).toEqual(['name IN a,b', 'diego:true'])
    expect(url.searchParams.get('results-per-page')).toBe('100')
    expect(url.searchParams.get('page')).toBe('3')
    expect(url.searchParams.get('inline-relations-depth')).toBe('1')
  })
})

describe('redaction', () => {
  it('cuts JWTs, bearer values and known secrets out of text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig-nature_1'
    expect(redact(`token ${jwt} here`)).toBe('token [token] here')
    expect(redact('Authorization: bearer opaque-token-123')).toBe('Authorization: bearer [token]')
    expect(redact('password was hunter22!', ['hunter22!'])).toBe('password was [redacted]')
  })
})
