import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type Pick, pickJson, pickOf } from '../../../src/core/cc/pick-json.js'
import { reference } from './pick-reference.js'

const bytes = (text: string) => Buffer.from(text, 'utf8')

/** A pick shaped like `value` in parts: some members named (and some that are absent), some arrays walked. */
function pickFor(value: unknown, choose: () => number, depth = 0): Pick {
  if (depth > 4 || choose() % 4 === 0) return true
  if (Array.isArray(value)) return [pickFor(value[0], choose, depth + 1)]
  if (value !== null && typeof value === 'object') {
    const pick: Record<string, Pick> = {}
    for (const [key, member] of Object.entries(value))
      if (choose() % 2 === 0) pick[key] = pickFor(member, choose, depth + 1)
    pick.absent = true
    return pick
  }
  return choose() % 2 === 0 ? true : { x: true }
}

describe('pickJson', () => {
  it('answers what JSON.parse answers for the picked parts of any JSON document, however it is spaced', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 2 }), fc.infiniteStream(fc.nat()), (value, indent, s) => {
        const text = JSON.stringify(value, null, indent)
        const parsed = JSON.parse(text)
        const choices = s[Symbol.iterator]()
        const pick = pickFor(parsed, () => choices.next().value as number)
        expect(pickJson(bytes(text), pick)).toEqual(reference(parsed, pick))
      }),
      { numRuns: 400 },
    )
  })

  it('reads strings with escapes and characters of every width as JSON.parse does', () => {
    const text = JSON.stringify({ a: 'tab\there "quoted" \\ back', b: 'ünïcødé ✓ 𝄞', c: '\u0001', d: 'plain' })
    const doc = `{"a":${JSON.stringify('tab\there "quoted" \\ back')},"b":"ünïcødé ✓ \\ud834\\udd1e","c":"\\u0001","d":"plain"}`
    const pick = { a: true, b: true, c: true, d: true } as const
    expect(pickJson(bytes(text), pick)).toEqual(JSON.parse(text))
    expect(pickJson(bytes(doc), pick)).toEqual(JSON.parse(doc))
  })

  it('reads numbers as JSON.parse does', () => {
    const doc = '{"n":[0,-0,12,-7.25,1e3,2.5E-2,1E+2,9007199254740993]}'
    expect(pickJson(bytes(doc), { n: [true] })).toEqual(JSON.parse(doc))
  })

  it('matches a member whose name is written with escapes', () => {
    expect(pickJson(bytes('{"na\\u006de":"web","other":1}'), { name: true })).toEqual({ name: 'web' })
  })

  it('keeps the last of a member given twice, as JSON.parse does', () => {
    expect(pickJson(bytes('{"a":1,"a":2}'), { a: true })).toEqual({ a: 2 })
  })

  it('keeps a value whole when it is not of the kind the pick expects, for the schema to report', () => {
    expect(pickJson(bytes('{"entity":[1,2],"list":{"x":1}}'), { entity: { name: true }, list: [true] })).toEqual({
      entity: [1, 2],
      list: { x: 1 },
    })
  })

  it('refuses what is not JSON, in the parts it skips as in the parts it keeps', () => {
    const bad = [
      '',
      '{',
      '{"a":1',
      '{"a":1,}',
      '{"a" 1}',
      '{"skip":[1,2,}',
      '{"skip":tru}',
      '{"skip":01}',
      '{"skip":-}',
      '{"skip":1.}',
      '{"skip":"unterminated}',
      '{"skip":{"x":1}}}',
      '[1] [2]',
      '{"a":"bad \u0001 control"}',
    ]
    for (const text of bad) expect(() => pickJson(bytes(text), { a: true }), text).toThrow(SyntaxError)
  })

  it('refuses every cut-short document', () => {
    const doc = JSON.stringify({
      total_pages: 2,
      resources: [{ metadata: { guid: 'g' }, entity: { name: 'a', ports: [8080] } }],
    })
    for (let end = 0; end < doc.length; end++) {
      expect(() => pickJson(bytes(doc.slice(0, end)), { resources: [{ entity: { name: true } }] })).toThrow(SyntaxError)
    }
  })

  it('refuses nesting deeper than it reads, without running out of stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    expect(() => pickJson(bytes(deep), [true])).toThrow(/too deeply nested/)
  })
})

describe('pickOf', () => {
  it('names the members an object schema reads, through optional, nullable, arrays and transforms', () => {
    const schema = z.object({
      metadata: z.object({ guid: z.string() }),
      entity: z.object({
        name: z.string().transform((s) => s.trim()),
        ports: z.array(z.object({ port: z.number() })).nullable(),
        state: z.enum(['STARTED', 'STOPPED']).optional(),
      }),
    })
    expect(pickOf(schema)).toEqual({
      metadata: { guid: true },
      entity: { name: true, ports: [{ port: true }], state: true },
    })
  })

  it('keeps whole what a schema reads beyond its own keys (strict, loose and catch-all objects)', () => {
    expect(pickOf(z.object({ a: z.strictObject({ b: z.number() }) }))).toEqual({ a: true })
    expect(pickOf(z.looseObject({ b: z.number() }))).toBe(true)
    expect(pickOf(z.object({ b: z.number() }).catchall(z.string()))).toBe(true)
    expect(pickOf(z.union([z.object({ a: z.string() }), z.string()]))).toBe(true)
  })

  it('picks what the schema needs to answer as it answers on the whole document', () => {
    const schema = z.object({ entity: z.object({ name: z.string(), memory: z.number().int() }) })
    const good = '{"metadata":{"guid":"g"},"entity":{"name":"web","memory":256,"ports":null}}'
    const bad = '{"metadata":{"guid":"g"},"entity":{"name":"web","memory":"256"}}'
    for (const doc of [good, bad]) {
      const picked = schema.safeParse(pickJson(bytes(doc), pickOf(schema)))
      const whole = schema.safeParse(JSON.parse(doc))
      expect(picked.success).toBe(whole.success)
      if (picked.success && whole.success) expect(picked.data).toEqual(whole.data)
      else expect(picked.error?.issues[0]?.path).toEqual(whole.error?.issues[0]?.path)
    }
  })
})
