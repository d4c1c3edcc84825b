// A document JSON.parse refuses is refused by pickJson too, wherever the fault is: in a string it only steps
// over, or in a member name, as much as in a value it keeps. (pickJson checks the strings it skips only for
// where they end, so these documents give a whole record instead of an error.)
import { describe, expect, it } from 'vitest'
import { pickJson } from '../../../src/core/cc/pick-json.js'

const NOT_JSON = [
  '{"skip":"a\tb","a":1}', // a raw control character in a skipped string
  '{"skip":"\\x","a":1}', // an escape JSON does not have
  '{"skip":"\\u12","a":1}', // a \u escape cut short
  '{"sk\tip":1,"a":1}', // a raw control character in a skipped member's name
  '{"a":1,"x":{"y\u0001":2}}', // ... deeper down
]

describe('pickJson on a fault in what it skips', () => {
  it.each(NOT_JSON)('refuses %j as JSON.parse does', (text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError)
    expect(() => pickJson(Buffer.from(text, 'utf8'), { a: true })).toThrow(SyntaxError)
  })
})
