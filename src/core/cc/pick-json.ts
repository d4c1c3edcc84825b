// A JSON document read from its bytes, keeping only the parts a schema looks at. A page of 100 apps is
// about 146 KB of JSON of which the dashboard uses eight fields an app: JSON.parse would make a string of
// the whole body (too large for V8's young generation, so it lingers until a full collection) and a tree
// of some 4,000 values, nearly all thrown away at once. Here the bytes are walked in place, the values
// that are not picked are only checked and stepped over, and the picked ones come out as JSON.parse would
// give them, for the schema to validate as usual.
import type { z } from 'zod'

/**
 * What to keep: `true` the whole value; an object the named members of an object (and none other); a
 * one-element array each element of an array, as that element says. A value of another type than the
 * pick expects is kept whole, so the schema that reads it reports it as it would have.
 */
export type Pick = true | { readonly [key: string]: Pick } | readonly [Pick]

/** Nesting deeper than this is refused rather than risking the stack (the CC's documents nest 4 deep). */
const MAX_DEPTH = 256

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39

/**
 * The parts of the JSON document in `bytes` that `pick` names, as JSON.parse would give them. Throws a
 * SyntaxError when the document is not JSON, wherever the fault is (a value that is only stepped over is
 * checked as JSON.parse would check it, without being built).
 */
export function pickJson(bytes: Uint8Array, pick: Pick): unknown {
  return new Reader(toBuffer(bytes)).document(pick)
}

/** A UTF-8 byte order mark, which a text read of the body (the Fetch standard's UTF-8 decode) drops too. */
const BOM = [0xef, 0xbb, 0xbf]

/**
 * The pick that keeps what `schema` reads: an object schema's own keys (a zod object drops the others
 * anyway), through optional, nullable, default, readonly and pipes, each element of an array schema;
 * every other schema, and an object schema that looks at unknown keys (strict, loose, catchall), whole.
 */
export function pickOf(schema: z.ZodType): Pick {
  const def = (schema as unknown as { _zod: { def: SchemaDef } })._zod.def
  switch (def.type) {
    case 'object': {
      if (def.catchall !== undefined || def.shape === undefined) return true
      const out: Record<string, Pick> = {}
      for (const [key, member] of Object.entries(def.shape)) out[key] = pickOf(member)
      return out
    }
    case 'array':
      return def.element === undefined ? true : [pickOf(def.element)]
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      return def.innerType === undefined ? true : pickOf(def.innerType)
    case 'pipe':
      return def.in === undefined ? true : pickOf(def.in)
    default:
      return true
  }
}

interface SchemaDef {
  type: string
  shape?: Record<string, z.ZodType>
  catchall?: z.ZodType
  element?: z.ZodType
  innerType?: z.ZodType
  in?: z.ZodType
}

/** The characters after a backslash that JSON knows, but for u: " \\ / b f n r t. */
const SIMPLE_ESCAPES = new Uint8Array(256)
for (const c of '"\\/bfnrt') SIMPLE_ESCAPES[c.charCodeAt(0)] = 1

/** Whether the four bytes from `at` are hex digits (a \\u escape's). */
function fourHexDigits(bytes: Buffer, at: number): boolean {
  for (let i = at; i < at + 4; i++) {
    const b = bytes[i]
    if (b === undefined || !((b >= ZERO && b <= NINE) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)))
      return false
  }
  return true
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The members of an object pick with their names as bytes, to match keys without decoding them. */
interface MemberPicks {
  readonly names: readonly Buffer[]
  readonly keys: readonly string[]
  readonly picks: readonly Pick[]
}

const memberCache = new WeakMap<object, MemberPicks>()

function membersOf(pick: { readonly [key: string]: Pick }): MemberPicks {
  let members = memberCache.get(pick)
  if (!members) {
    const keys = Object.keys(pick)
    members = { keys, names: keys.map((key) => Buffer.from(key, 'utf8')), picks: keys.map((key) => pick[key]!) }
    memberCache.set(pick, members)
  }
  return members
}

class Reader {
  private pos = 0

  constructor(private readonly bytes: Buffer) {}

  document(pick: Pick): unknown {
    if (this.bytes[0] === BOM[0] && this.bytes[1] === BOM[1] && this.bytes[2] === BOM[2]) this.pos = 3
    const value = this.value(pick, 0)
    this.space()
    if (this.pos !== this.bytes.length) this.fail('unexpected data after the JSON value')
    return value
  }

  private value(pick: Pick, depth: number): unknown {
    this.space()
    const c = this.bytes[this.pos]
    if (pick !== true) {
      if (Array.isArray(pick) && c === OPEN_BRACKET) return this.array(pick[0] as Pick, depth)
      if (!Array.isArray(pick) && c === OPEN_BRACE) return this.object(pick as { [key: string]: Pick }, depth)
    }
    return this.whole(depth)
  }

  private object(pick: { readonly [key: string]: Pick }, depth: number): Record<string, unknown> {
    if (depth >= MAX_DEPTH) this.fail('too deeply nested')
    const { names, keys, picks } = membersOf(pick)
    const out: Record<string, unknown> = {}
    this.pos++
    this.space()
    if (this.bytes[this.pos] === CLOSE_BRACE) {
      this.pos++
      return out
    }
    for (;;) {
      this.space()
      if (this.bytes[this.pos] !== QUOTE) this.fail('expected a member name')
      const start = this.pos + 1
      const end = this.stringEnd()
      const at = this.memberIndex(names, keys, start, end)
      this.space()
      if (this.bytes[this.pos] !== COLON) this.fail("expected ':'")
      this.pos++
      if (at < 0) this.skip(depth + 1)
      else out[keys[at]!] = this.value(picks[at]!, depth + 1)
      this.space()
      const c = this.bytes[this.pos]
      this.pos++
      if (c === CLOSE_BRACE) return out
      if (c !== COMMA) this.fail("expected ',' or '}'", this.pos - 1)
    }
  }

  private array(pick: Pick, depth: number): unknown[] {
    if (depth >= MAX_DEPTH) this.fail('too deeply nested')
    const out: unknown[] = []
    this.pos++
    this.space()
    if (this.bytes[this.pos] === CLOSE_BRACKET) {
      this.pos++
      return out
    }
    for (;;) {
      out.push(this.value(pick, depth + 1))
      this.space()
      const c = this.bytes[this.pos]
      this.pos++
      if (c === CLOSE_BRACKET) return out
      if (c !== COMMA) this.fail("expected ',' or ']'", this.pos - 1)
    }
  }

  /** Which picked member the name between `start` and `end` (the closing quote) is, or -1. */
  private memberIndex(names: readonly Buffer[], keys: readonly string[], start: number, end: number): number {
    const bytes = this.bytes
    const length = end - start
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!
      if (name.length !== length) continue
      let j = 0
      while (j < length && name[j] === bytes[start + j]) j++
      if (j === length) return i
    }
    for (let i = start; i < end; i++) {
      // An escaped name (never seen from a CC, but legal): compare it decoded.
      if (bytes[i] === BACKSLASH) return keys.indexOf(this.parse(start - 1, end + 1) as string)
    }
    return -1
  }

  /** The value at `pos`, read in full: a string or a number straight from its bytes, the rest by JSON.parse. */
  private whole(depth: number): unknown {
    const bytes = this.bytes
    const start = this.pos
    const c = bytes[start]
    if (c === QUOTE) {
      const end = this.stringEnd()
      // No escape and no control character: the bytes between the quotes are the string, in UTF-8.
      for (let i = start + 1; i < end; i++) {
        const b = bytes[i]!
        if (b < 0x20 || b === BACKSLASH) return this.parse(start, end + 1)
      }
      return bytes.toString('utf8', start + 1, end)
    }
    if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) {
      this.number()
      return Number(bytes.toString('latin1', start, this.pos))
    }
    this.skip(depth)
    return this.parse(start, this.pos)
  }

  private parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.bytes.toString('utf8', start, end))
    } catch (error) {
      this.fail((error as Error).message, start)
    }
  }

  /** Steps over the value at `pos`, checking its structure. */
  private skip(depth: number): void {
    if (depth >= MAX_DEPTH) this.fail('too deeply nested')
    this.space()
    const bytes = this.bytes
    const c = bytes[this.pos]
    switch (c) {
      case QUOTE:
        this.stringEnd()
        return
      case OPEN_BRACE: {
        this.pos++
        this.space()
        if (bytes[this.pos] === CLOSE_BRACE) {
          this.pos++
          return
        }
        for (;;) {
          this.space()
          if (bytes[this.pos] !== QUOTE) this.fail('expected a member name')
          this.stringEnd()
          this.space()
          if (bytes[this.pos] !== COLON) this.fail("expected ':'")
          this.pos++
          this.skip(depth + 1)
          this.space()
          const next = bytes[this.pos]
          this.pos++
          if (next === CLOSE_BRACE) return
          if (next !== COMMA) this.fail("expected ',' or '}'", this.pos - 1)
        }
      }
      case OPEN_BRACKET: {
        this.pos++
        this.space()
        if (bytes[this.pos] === CLOSE_BRACKET) {
          this.pos++
          return
        }
        for (;;) {
          this.skip(depth + 1)
          this.space()
          const next = bytes[this.pos]
          this.pos++
          if (next === CLOSE_BRACKET) return
          if (next !== COMMA) this.fail("expected ',' or ']'", this.pos - 1)
        }
      }
      case 0x74: // t
        this.literal('true')
        return
      case 0x66: // f
        this.literal('false')
        return
      case 0x6e: // n
        this.literal('null')
        return
      default:
        if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) this.number()
        else this.fail(c === undefined ? 'unexpected end of JSON' : 'unexpected character')
    }
  }

  /**
   * `pos` at an opening quote: moves past the closing one and answers where that is. Checks the string as
   * JSON.parse would (no raw control character, only JSON's escapes), so that a string stepped over is
   * refused where a parse of it would have been.
   */
  private stringEnd(): number {
    // A loop over the bytes rather than Buffer.indexOf: the strings are short, and a call into C++ per
    // string costs more than scanning it here.
    const bytes = this.bytes
    const length = bytes.length
    for (let i = this.pos + 1; i < length; i++) {
      const b = bytes[i]!
      // Most bytes of a CC's strings (lower-case letters, UTF-8's multi-byte characters) are past '\\'.
      if (b > BACKSLASH) continue
      if (b === QUOTE) {
        this.pos = i + 1
        return i
      }
      if (b === BACKSLASH) {
        const e = bytes[++i]!
        if (e === 0x75) {
          if (!fourHexDigits(bytes, i + 1)) this.fail('a bad \\u escape', i - 1)
          i += 4
        } else if (SIMPLE_ESCAPES[e] !== 1) this.fail('a bad escape', i - 1)
      } else if (b < 0x20) this.fail('a control character in a string', i)
    }
    this.fail('unterminated string')
  }

  /** JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(): void {
    const bytes = this.bytes
    if (bytes[this.pos] === MINUS) this.pos++
    if (bytes[this.pos] === ZERO) this.pos++
    else if (!this.digits()) this.fail('expected a digit')
    if (bytes[this.pos] === DOT) {
      this.pos++
      if (!this.digits()) this.fail('expected a digit after the decimal point')
    }
    if (bytes[this.pos] === 0x65 || bytes[this.pos] === 0x45) {
      this.pos++
      if (bytes[this.pos] === PLUS || bytes[this.pos] === MINUS) this.pos++
      if (!this.digits()) this.fail('expected a digit in the exponent')
    }
  }

  private digits(): boolean {
    const start = this.pos
    for (let b = this.bytes[this.pos]; b !== undefined && b >= ZERO && b <= NINE; b = this.bytes[++this.pos]);
    return this.pos > start
  }

  private literal(word: string): void {
    for (let i = 0; i < word.length; i++) {
      if (this.bytes[this.pos + i] !== word.charCodeAt(i)) this.fail('unexpected character')
    }
    this.pos += word.length
  }

  private space(): void {
    const bytes = this.bytes
    for (let b = bytes[this.pos]; b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09; b = bytes[++this.pos]);
  }

  private fail(what: string, at = this.pos): never {
    throw new SyntaxError(`${what} at byte ${at} of the JSON`)
  }
}
