import { describe, expect, it } from 'vitest'
import {
  follow,
  initialUi,
  interpretKey,
  type KeyContext,
  type KeyPress,
  type UiState,
} from '../../../src/ui/dashboard/interaction.js'

const ctx = (overrides: Partial<KeyContext> = {}): KeyContext => ({
  readonly: false,
  migrationId: 'm-1',
  rows: 100,
  page: 10,
  fleetIds: ['m-1', 'm-2'],
  busy: undefined,
  ...overrides,
})
const key = (input: string, flags: Omit<KeyPress, 'input'> = {}): KeyPress => ({ input, ...flags })

/** Presses the keys in order, as the dashboard does, and returns the last state and every intent. */
function press(keys: KeyPress[], context = ctx(), state: UiState = initialUi()) {
  const intents = []
  for (const k of keys) {
    const outcome = interpretKey(state, k, context)
    state = outcome.state
    if (outcome.intent) intents.push(outcome.intent)
  }
  return { state, intents }
}
const typed = (text: string) => [...text].map((c) => key(c))

describe('keys: views', () => {
  it(': then a view name and Enter jumps to it', () => {
    expect(press([key(':'), ...typed('migrations'), key('', { return: true })]).state.view).toBe('migrations')
    expect(press([key(':'), ...typed('events'), key('', { return: true })]).state.view).toBe('events')
    expect(press([key(':'), ...typed('apps'), key('', { return: true })]).state.view).toBe('apps')
  })

  it(': takes short names, and Backspace edits the prompt', () => {
    const { state } = press([
      key(':'),
      ...typed('mix'),
      key('', { backspace: true }),
      key('g'),
      key('', { return: true }),
    ])
    expect(state.view).toBe('migrations')
    expect(state.mode.kind).toBe('normal')
  })

  it(': with an unknown name says so and stays', () => {
    const { state } = press([key(':'), ...typed('pods'), key('', { return: true })])
    expect(state.view).toBe('overview')
    expect(state.message?.text).toContain('no view :pods')
  })

  it('Esc leaves the prompt without jumping', () => {
    const { state } = press([key(':'), ...typed('apps'), key('', { escape: true })])
    expect(state).toMatchObject({ view: 'overview', mode: { kind: 'normal' } })
  })

  it(':q quits', () => {
    expect(press([key(':'), key('q'), key('', { return: true })]).intents).toEqual([{ type: 'quit' }])
  })

  it('Tab cycles the views, Esc goes back to the overview', () => {
    const { state } = press([key('', { tab: true }), key('', { tab: true })])
    expect(state.view).toBe('migrations')
    expect(press([key('', { escape: true })], ctx(), state).state.view).toBe('overview')
  })

  it('? opens the help, and ? or Esc closes it', () => {
    const open = press([key('?')]).state
    expect(open.mode.kind).toBe('help')
    expect(press([key('?')], ctx(), open).state.mode.kind).toBe('normal')
    expect(press([key('', { escape: true })], ctx(), open).state.mode.kind).toBe('normal')
  })

  it('q quits, at once when nothing runs here', () => {
    expect(press([key('q')]).intents).toEqual([{ type: 'quit' }])
  })

  it('q asks first while a rollback runs in this process', () => {
    const busy = ctx({ busy: { migrationId: 'm-1', what: 'rollback' } })
    const asked = press([key('q')], busy)
    expect(asked.intents).toEqual([])
    expect(asked.state.mode).toEqual({ kind: 'confirm', action: 'quit', migrationId: 'm-1', what: 'rollback' })
    expect(press([key('y')], busy, asked.state).intents).toEqual([{ type: 'quit' }])
  })
})

describe('keys: the filter', () => {
  it('/ filters the current list as it is typed, and Enter keeps it', () => {
    const { state } = press([key('/'), ...typed('acme'), key('', { return: true })])
    expect(state.filters.apps).toBe('acme')
    expect(state.mode.kind).toBe('normal')
  })

  it('Backspace removes the last character, Esc clears the filter', () => {
    const typing = press([key('/'), ...typed('acmx'), key('', { backspace: true })]).state
    expect(typing.filters.apps).toBe('acm')
    expect(press([key('', { escape: true })], ctx(), typing).state.filters.apps).toBe('')
  })

  it('a pasted word arrives whole', () => {
    expect(press([key('/'), key('checkout')]).state.filters.apps).toBe('checkout')
  })

  it('each view has its own filter', () => {
    const { state } = press([key(':'), ...typed('events'), key('', { return: true }), key('/'), ...typed('gap')])
    expect(state.filters).toEqual({ apps: '', migrations: '', events: 'gap' })
  })

  it('a new filter brings the list back to the top', () => {
    const scrolled = press([key('G')]).state
    expect(scrolled.scroll.apps.cursor).toBe(99)
    expect(press([key('/'), key('a')], ctx(), scrolled).state.scroll.apps).toEqual({ cursor: 0, offset: 0 })
  })

  it('Esc in the list clears its filter first, then goes back', () => {
    const filtered = press([
      key(':'),
      ...typed('apps'),
      key('', { return: true }),
      key('/'),
      key('x'),
      key('', { return: true }),
    ]).state
    const cleared = press([key('', { escape: true })], ctx(), filtered).state
    expect(cleared).toMatchObject({ view: 'apps', filters: { apps: '' } })
    expect(press([key('', { escape: true })], ctx(), cleared).state.view).toBe('overview')
  })
})

describe('keys: moving in a list', () => {
  it('j, k and the arrows move one row', () => {
    expect(press([key('j'), key('j'), key('', { downArrow: true }), key('k')]).state.scroll.apps.cursor).toBe(2)
    expect(press([key('', { upArrow: true })]).state.scroll.apps.cursor).toBe(0)
  })

  it('PgDn, space and Ctrl-F move a page; PgUp and Ctrl-B back', () => {
    expect(press([key('', { pageDown: true })]).state.scroll.apps).toEqual({ cursor: 10, offset: 1 })
    expect(press([key(' ')]).state.scroll.apps.cursor).toBe(10)
    expect(press([key('f', { ctrl: true })]).state.scroll.apps.cursor).toBe(10)
    expect(press([key('G'), key('', { pageUp: true })]).state.scroll.apps.cursor).toBe(89)
    expect(press([key('G'), key('b', { ctrl: true })]).state.scroll.apps.cursor).toBe(89)
  })

  it('G and End go to the last row, g and Home to the first', () => {
    expect(press([key('G')]).state.scroll.apps).toEqual({ cursor: 99, offset: 90 })
    expect(press([key('', { end: true })]).state.scroll.apps.cursor).toBe(99)
    expect(press([key('G'), key('g')]).state.scroll.apps).toEqual({ cursor: 0, offset: 0 })
    expect(press([key('G'), key('', { home: true })]).state.scroll.apps.cursor).toBe(0)
  })

  it('stops at the ends of the list', () => {
    expect(press(typed('jjjjj'), ctx({ rows: 3 })).state.scroll.apps.cursor).toBe(2)
  })

  it('keeps the cursor on screen', () => {
    expect(follow({ cursor: 25, offset: 0 }, 10, 100)).toEqual({ cursor: 25, offset: 16 })
    expect(follow({ cursor: 3, offset: 16 }, 10, 100)).toEqual({ cursor: 3, offset: 3 })
    expect(follow({ cursor: 80, offset: 75 }, 10, 20)).toEqual({ cursor: 19, offset: 10 })
  })
})

describe('keys: sorting', () => {
  it('s sorts by the next column, S reverses', () => {
    const byOrg = press([key('s')]).state
    expect(byOrg.sort).toEqual({ key: 'org', descending: false })
    expect(press([key('S')], ctx(), byOrg).state.sort).toEqual({ key: 'org', descending: true })
  })

  it('s wraps round to the name', () => {
    expect(press(typed('sssssss')).state.sort.key).toBe('name')
  })
})

describe('keys: the fleet view', () => {
  it('Enter watches the selected migration and goes back to the overview', () => {
    const { state, intents } = press([
      key(':'),
      ...typed('m'),
      key('', { return: true }),
      key('j'),
      key('', { return: true }),
    ])
    expect(intents).toEqual([{ type: 'watch', migrationId: 'm-2' }])
    expect(state.view).toBe('overview')
  })
})

describe('keys: control', () => {
  it('p, r, + and - act at once', () => {
    expect(press([key('p')]).intents).toEqual([{ type: 'control', action: 'pause' }])
    expect(press([key('r')]).intents).toEqual([{ type: 'control', action: 'resume' }])
    expect(press([key('+')]).intents).toEqual([{ type: 'control', action: 'faster' }])
    expect(press([key('-')]).intents).toEqual([{ type: 'control', action: 'slower' }])
  })

  it('a asks before it aborts; y confirms', () => {
    const asked = press([key('a')])
    expect(asked.intents).toEqual([])
    expect(asked.state.mode).toEqual({ kind: 'confirm', action: 'abort', migrationId: 'm-1' })
    expect(press([key('y')], ctx(), asked.state).intents).toEqual([{ type: 'control', action: 'abort' }])
  })

  it('b asks before it rolls back; anything but y cancels', () => {
    const asked = press([key('b')])
    expect(asked.state.mode).toEqual({ kind: 'confirm', action: 'rollback', migrationId: 'm-1' })
    const { state, intents } = press([key('n')], ctx(), asked.state)
    expect(intents).toEqual([])
    expect(state).toMatchObject({ mode: { kind: 'normal' }, message: { text: 'rollback cancelled' } })
  })

  it('--readonly turns every control key into a message', () => {
    const { state, intents } = press([key('p')], ctx({ readonly: true }))
    expect(intents).toEqual([])
    expect(state.message?.text).toContain('read-only')
    for (const k of ['r', 'a', 'b', '+', '-']) expect(press([key(k)], ctx({ readonly: true })).intents).toEqual([])
    expect(press([key('a')], ctx({ readonly: true })).state.mode.kind).toBe('normal')
  })

  it('without a watched migration, says how to pick one', () => {
    const { state, intents } = press([key('p')], ctx({ migrationId: undefined }))
    expect(intents).toEqual([])
    expect(state.message?.text).toContain(':migrations')
  })

  it('a message lasts until the next key', () => {
    const said = press([key('p')], ctx({ readonly: true })).state
    expect(press([key('j')], ctx(), said).state.message).toBeUndefined()
  })
})
