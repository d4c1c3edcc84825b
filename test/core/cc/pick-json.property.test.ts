// pickJson against JSON.parse on documents written every way JSON allows: strings with every escape
// (\uXXXX in either case, surrogate pairs written raw or as two escapes, lone surrogates), raw characters of
// every UTF-8 width, bytes that are not UTF-8, numbers in every form of the grammar, whitespace of all four
// kinds between any two tokens, member names written with escapes, members given twice. Also: the bytes
// lent inside a larger buffer, malformed documents (a structural byte changed) and cut-short ones, and bodies
// that reach the transport in random pieces.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { type Pick, pickJson } from '../../../src/core/cc/pick-json.js'
import { Transport } from '../../../src/core/cc/transport.js'
import { reference } from './pick-reference.js'

/** JSON.parse of the bytes as the old read had them: the whole body decoded as UTF-8, then parsed. */
function parsed(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) }
  } catch {
    return { ok: false }
  }
}

const b = (text: string) => Buffer.from(text, 'utf8')
const cat = (...parts: Buffer[]) => Buffer.concat(parts)

// Member names drawn from a few, so that picks find them and members come twice; some wide, one astral.
const NAMES = ['a', 'b', 'guid', 'name', 'metadata', 'entity', 'ünï', '✓', '𝄞x', 'constructor', '']

const space = fc.constantFrom('', '', '', ' ', '\n', '\t', '\r', '\r\n  ', ' \t').map(b)

function hex4(unit: number, upper: boolean): string {
  const h = unit.toString(16).padStart(4, '0')
  return upper ? h.toUpperCase() : h
}

/** One code point, as a JSON string writes it: raw (UTF-8) or as \u escapes of its UTF-16 units. */
function codePoint(cp: number, escaped: boolean, upper: boolean): Buffer {
  if (!escaped) return b(String.fromCodePoint(cp))
  const s = String.fromCodePoint(cp)
  let out = ''
  for (let i = 0; i < s.length; i++) out += `\\u${hex4(s.charCodeAt(i), upper)}`
  return b(out)
}

const stringPiece: fc.Arbitrary<Buffer> = fc.oneof(
  // Raw characters of every width (those a JSON string may hold raw).
  fc
    .string({ unit: 'binary', maxLength: 4 })
    .map((s) => b([...s].filter((c) => c !== '"' && c !== '\\' && c.codePointAt(0)! >= 0x20).join(''))),
  fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t').map(b),
  // Any UTF-16 unit as an escape: lone surrogates included.
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.boolean()).map(([u, upper]) => b(`\\u${hex4(u, upper)}`)),
  // An astral character as a surrogate pair of escapes, or raw.
  fc
    .tuple(fc.integer({ min: 0x10000, max: 0x10ffff }), fc.boolean(), fc.boolean())
    .map(([cp, escaped, upper]) => codePoint(cp, escaped, upper)),
  // A byte that is not UTF-8 on its own (a stray continuation or a lead byte cut short).
  fc.integer({ min: 0x80, max: 0xff }).map((byte) => Buffer.from([byte])),
)

const stringToken = fc.array(stringPiece, { maxLength: 6 }).map((pieces) => cat(b('"'), ...pieces, b('"')))

/** A member name, each of its characters written raw or escaped. */
const nameToken = fc
  .tuple(fc.constantFrom(...NAMES), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.boolean())
  .map(([name, escapes, upper]) => {
    const cps = [...name].map((c, i) => codePoint(c.codePointAt(0)!, escapes[i % 3]!, upper))
    return cat(b('"'), ...cps, b('"'))
  })

const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''))

/** JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
const numberToken = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.constant('0'),
      fc.tuple(fc.constantFrom(...'123456789'), digits(0, 24)).map(([h, t]) => h + t),
    ),
    fc.option(digits(1, 20).map((d) => `.${d}`)),
    fc.option(
      fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3)).map(([e, s, d]) => e + s + d),
    ),
  )
  .map(([minus, int, frac, exp]) => b(`${minus ? '-' : ''}${int}${frac ?? ''}${exp ?? ''}`))

const literalToken = fc.constantFrom('null', 'true', 'false').map(b)

const { value: valueToken } = fc.letrec<{ value: Buffer; array: Buffer; object: Buffer }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'json' },
    literalToken,
    numberToken,
    stringToken,
    tie('array'),
    tie('object'),
  ),
  array: fc
    .tuple(space, fc.array(fc.tuple(space, tie('value'), space), { maxLength: 5, depthIdentifier: 'json' }))
    .map(([inner, items]) =>
      items.length === 0
        ? cat(b('['), inner, b(']'))
        : cat(b('['), ...items.flatMap(([s1, v, s2], i) => [...(i ? [b(',')] : []), s1, v, s2]), b(']')),
    ),
  object: fc
    .tuple(
      space,
      fc.array(fc.tuple(space, nameToken, space, space, tie('value'), space), {
        maxLength: 6,
        depthIdentifier: 'json',
      }),
    )
    .map(([inner, members]) =>
      members.length === 0
        ? cat(b('{'), inner, b('}'))
        : cat(
            b('{'),
            ...members.flatMap(([s1, n, s2, s3, v, s4], i) => [...(i ? [b(',')] : []), s1, n, s2, b(':'), s3, v, s4]),
            b('}'),
          ),
    ),
}))

const documentToken = fc.tuple(space, valueToken, space).map(([s1, v, s2]) => cat(s1, v, s2))
const containerDocument = fc
  .tuple(space, fc.oneof(valueToken.filter((v) => v[0] === 0x7b || v[0] === 0x5b)), space)
  .map(([s1, v, s2]) => cat(s1, v, s2))

/**
 * A pick shaped like `value` in parts: some members named (some absent ones too), some arrays walked, and now
 * and then a pick of the wrong kind for what is there.
 */
function pickFor(value: unknown, choose: () => number, depth = 0): Pick {
  if (depth > 5 || choose() % 5 === 0) return true
  if (Array.isArray(value)) {
    if (choose() % 7 === 0) return { a: true }
    return [pickFor(value[choose() % Math.max(1, value.length)], choose, depth + 1)]
  }
  if (value !== null && typeof value === 'object') {
    if (choose() % 7 === 0) return [true]
    const pick: Record<string, Pick> = {}
    for (const [key, member] of Object.entries(value))
      if (choose() % 3 !== 0) pick[key] = pickFor(member, choose, depth + 1)
    for (const name of NAMES) if (choose() % 9 === 0) pick[name] = choose() % 2 === 0 ? true : { a: true }
    return pick
  }
  return choose() % 2 === 0 ? true : { a: true }
}

const picking = fc.infiniteStream(fc.nat())
const chooser = (s: fc.Stream<number>) => {
  const it = s[Symbol.iterator]()
  return () => it.next().value as number
}

/** The spans of the document's strings (from their opening quote to their closing one), to leave alone. */
function stringSpans(bytes: Buffer): boolean[] {
  const inString = new Array<boolean>(bytes.length).fill(false)
  let open = false
  for (let i = 0; i < bytes.length; i++) {
    if (open) {
      inString[i] = true
      if (bytes[i] === 0x5c) inString[++i] = true
      else if (bytes[i] === 0x22) open = false
    } else if (bytes[i] === 0x22) {
      open = true
      inString[i] = true
    }
  }
  return inString
}

const RUNS = 1000

describe('pickJson, property: as JSON.parse then pick', () => {
  it('answers what JSON.parse answers, for any pick of any document however written', () => {
    fc.assert(
      fc.property(documentToken, picking, (doc, s) => {
        const whole = parsed(doc)
        expect(whole.ok).toBe(true) // the generator writes JSON only
        if (!whole.ok) return
        const pick = pickFor(whole.value, chooser(s))
        expect(pickJson(doc, pick)).toEqual(reference(whole.value, pick))
        expect(pickJson(doc, true)).toEqual(whole.value)
      }),
      { numRuns: RUNS },
    )
  })

  it('reads the bytes it is lent and nothing around them (a view into a larger, reused buffer)', () => {
    fc.assert(
      fc.property(
        documentToken,
        picking,
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.boolean(),
        (doc, s, before, after, plain) => {
          const whole = parsed(doc)
          if (!whole.ok) return
          const pick = pickFor(whole.value, chooser(s))
          const big = Buffer.concat([Buffer.from(before), doc, Buffer.from(after)])
          const view = plain
            ? new Uint8Array(big.buffer, big.byteOffset + before.length, doc.length)
            : big.subarray(before.length, before.length + doc.length)
          expect(pickJson(view, pick)).toEqual(reference(whole.value, pick))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses a document made malformed outside its strings exactly when JSON.parse does, else answers as it', () => {
    const structural = [...'{}[],: 0123456789-+.eEtrufalsn'].map((c) => c.charCodeAt(0))
    fc.assert(
      fc.property(
        documentToken,
        picking,
        fc.nat(),
        fc.constantFrom('delete', 'replace', 'insert'),
        fc.constantFrom(...structural),
        (doc, s, at, how, byte) => {
          const spans = stringSpans(doc)
          const outside = spans.flatMap((inside, i) => (inside ? [] : [i]))
          if (how !== 'insert' && outside.length === 0) return
          const i = how === 'insert' ? at % (doc.length + 1) : outside[at % outside.length]!
          if (how === 'insert' && i > 0 && i < doc.length && spans[i - 1] && spans[i]) return // inside a string
          const bytes = [...doc]
          if (how === 'delete') bytes.splice(i, 1)
          else if (how === 'replace') bytes[i] = byte
          else bytes.splice(i, 0, byte)
          const mutated = Buffer.from(bytes)
          const whole = parsed(mutated)
          const original = parsed(doc)
          const pick = pickFor(whole.ok ? whole.value : original.ok ? original.value : null, chooser(s))
          if (whole.ok) expect(pickJson(mutated, pick)).toEqual(reference(whole.value, pick))
          else expect(() => pickJson(mutated, pick), mutated.toString('utf8')).toThrow(SyntaxError)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('refuses every cut-short object or array, whatever it picks (never half a record)', () => {
    fc.assert(
      fc.property(containerDocument, picking, (padded, s) => {
        const doc = Buffer.from(padded.toString('latin1').trim(), 'latin1')
        const whole = parsed(doc)
        if (!whole.ok) return
        const pick = pickFor(whole.value, chooser(s))
        for (let end = 0; end < doc.length; end++) {
          expect(() => pickJson(doc.subarray(0, end), pick)).toThrow(SyntaxError)
        }
      }),
      { numRuns: 100 },
    )
  })
})

let server: Server | undefined
let transport: Transport | undefined
afterEach(async () => {
  await transport?.close()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
  transport = undefined
})

describe('pickJson, property: bodies that reach the transport in pieces', () => {
  it('reads each body whole from the buffers the transport lends, however it was cut and however many at once', async () => {
    // The server answers /N with the N-th body, written in the pieces given for it (cut anywhere: inside a
    // multi-byte character, between a backslash and what it escapes), each piece flushed before the next.
    let bodies: { bytes: Buffer; cuts: number[]; length: boolean }[] = []
    server = createServer(async (req, res) => {
      const body = bodies[Number(req.url!.slice(1))]!
      const headers: Record<string, string | number> = { 'content-type': 'application/json' }
      if (body.length) headers['content-length'] = body.bytes.length
      res.writeHead(200, headers)
      let from = 0
      for (const cut of [...body.cuts, body.bytes.length]) {
        if (cut <= from) continue
        res.write(body.bytes.subarray(from, cut))
        from = cut
        await new Promise((resolve) => setImmediate(resolve))
      }
      res.end()
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    transport = new Transport(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { retries: 0 })
    const t = transport

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(documentToken, fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), picking, fc.boolean()), {
          minLength: 1,
          maxLength: 6,
        }),
        async (docs) => {
          bodies = docs.map(([doc, cuts, length]) => ({
            bytes: doc,
            cuts: cuts.map((c) => c % (doc.length + 1)).sort((x, y) => x - y),
            length,
          }))
          const answers = await Promise.all(bodies.map((_, n) => t.send({ method: 'GET', path: `/${n}`, bytes: true })))
          // All held at once, then checked, then given back in an order of their own.
          for (let n = 0; n < docs.length; n++) {
            const [doc, , , s] = docs[n]!
            const whole = parsed(doc)
            if (!whole.ok) continue
            const pick = pickFor(whole.value, chooser(s))
            expect(answers[n]!.bytes!.equals(doc)).toBe(true)
            expect(pickJson(answers[n]!.bytes!, pick)).toEqual(reference(whole.value, pick))
          }
          const order = docs.map((d, n) => [d[4], n] as const).sort((x, y) => Number(x[0]) - Number(y[0]))
          for (const [, n] of order) answers[n]!.release!()
        },
      ),
      { numRuns: 60 },
    )
  })

  it('hands out no buffer twice: bodies larger than a pool buffer, read at once, each come back whole', async () => {
    const sizes = [300_000, 10, 600_000, 256 * 1024, 256 * 1024 + 1, 50]
    const bodyOf = (n: number) => {
      const filler = 'ü✓'.repeat(Math.ceil(sizes[n]! / 5)).slice(0, Math.ceil(sizes[n]! / 3))
      return b(JSON.stringify({ n, filler, tail: `\\"${n}` }))
    }
    server = createServer((req, res) => {
      const n = Number(req.url!.slice(1)) % sizes.length
      const body = bodyOf(n)
      res.writeHead(200, { 'content-type': 'application/json' })
      // No length, in pieces of 64 KB: the reader grows its buffer and gives the smaller one back mid-read.
      for (let at = 0; at < body.length; at += 65_536) res.write(body.subarray(at, at + 65_536))
      res.end()
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    transport = new Transport(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { retries: 0 })
    for (let round = 0; round < 4; round++) {
      const answers = await Promise.all(
        sizes.map((_, n) => transport!.send({ method: 'GET', path: `/${n + round}`, bytes: true })),
      )
      for (let n = 0; n < sizes.length; n++) {
        const want = bodyOf((n + round) % sizes.length)
        expect(answers[n]!.bytes!.equals(want)).toBe(true)
        expect(pickJson(answers[n]!.bytes!, { n: true, tail: true })).toEqual({
          n: (n + round) % sizes.length,
          tail: `\\"${(n + round) % sizes.length}`,
        })
      }
      for (const answer of round % 2 ? answers : [...answers].reverse()) answer.release!()
    }
  })
})
