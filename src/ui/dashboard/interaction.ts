// What a key does, as a pure function of the interaction state: which view shows, what is typed in the
// filter or the `:` prompt, where each list is scrolled, which question awaits a y, and which intent
// (quit, a control, watching another migration) the dashboard must carry out. Keys follow k9s: `/` filters,
// `:` jumps to a view, `?` helps, Esc backs out, j/k and the arrows move.
import type { ControlAction, OwnWork } from './control.js'
import { SORT_KEYS, type SortOrder } from './table.js'

export const VIEWS = ['overview', 'apps', 'migrations', 'events'] as const
export type View = (typeof VIEWS)[number]

/** The lists that scroll and filter; the overview's table is the apps list. */
export type ListName = 'apps' | 'migrations' | 'events'

export type Mode =
  | { kind: 'normal' }
  | { kind: 'filter' }
  | { kind: 'command'; draft: string }
  | { kind: 'confirm'; action: 'abort' | 'rollback' | 'quit'; migrationId?: string; what?: OwnWork['what'] }
  | { kind: 'help' }

export interface Scroll {
  /** The selected row, in the filtered list. */
  cursor: number
  /** The first row drawn. */
  offset: number
}

export interface UiState {
  view: View
  mode: Mode
  filters: Record<ListName, string>
  scroll: Record<ListName, Scroll>
  sort: SortOrder
  /** A line for the status bar, cleared by the next key. */
  message: { text: string; tone: 'good' | 'warn' | 'bad' | 'info' } | undefined
}

/** A key as ink reports it, reduced to what the dashboard reads. */
export interface KeyPress {
  input: string
  upArrow?: boolean
  downArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  backspace?: boolean
  delete?: boolean
  tab?: boolean
  ctrl?: boolean
}

export interface KeyContext {
  readonly: boolean
  /** The watched migration. */
  migrationId: string | undefined
  /** Rows of the current view's list after its filter. */
  rows: number
  /** Rows of it that fit on screen. */
  page: number
  /** The fleet view's migrations, in the order drawn (after its filter). */
  fleetIds: readonly string[]
  /** A run or rollback the dashboard started goes on: quitting asks first. */
  busy: OwnWork | undefined
}

export type Intent =
  | { type: 'quit' }
  | { type: 'control'; action: ControlAction }
  | { type: 'watch'; migrationId: string }

export interface Outcome {
  state: UiState
  intent?: Intent
}

export function initialUi(overrides: Partial<UiState> = {}): UiState {
  return {
    view: 'overview',
    mode: { kind: 'normal' },
    filters: { apps: '', migrations: '', events: '' },
    scroll: { apps: { cursor: 0, offset: 0 }, migrations: { cursor: 0, offset: 0 }, events: { cursor: 0, offset: 0 } },
    sort: { key: 'name', descending: false },
    message: undefined,
    ...overrides,
  }
}

export function listOf(view: View): ListName {
  return view === 'overview' ? 'apps' : view
}

const VIEW_NAMES: Record<string, View> = {
  overview: 'overview',
  o: 'overview',
  dashboard: 'overview',
  home: 'overview',
  apps: 'apps',
  app: 'apps',
  a: 'apps',
  migrations: 'migrations',
  migration: 'migrations',
  mig: 'migrations',
  m: 'migrations',
  fleet: 'migrations',
  events: 'events',
  event: 'events',
  ev: 'events',
  e: 'events',
}

const CONTROL_KEYS: Record<string, ControlAction> = {
  p: 'pause',
  r: 'resume',
  a: 'abort',
  b: 'rollback',
  '+': 'faster',
  '=': 'faster',
  '-': 'slower',
}

/** Printable input: what a filter or the prompt takes (a paste arrives as one string). */
function printable(key: KeyPress): string {
  if (key.ctrl || key.escape || key.return || key.tab) return ''
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being removed
  return key.input.replace(/[\u0000-\u001f\u007f]/g, '')
}

export function interpretKey(state: UiState, key: KeyPress, ctx: KeyContext): Outcome {
  const next: UiState = { ...state, message: undefined }
  switch (state.mode.kind) {
    case 'help':
      if (key.escape || key.input === '?' || key.input === 'q') return { state: { ...next, mode: { kind: 'normal' } } }
      return { state: next }
    case 'filter':
      return filterKey(next, key)
    case 'command':
      return commandKey(next, state.mode.draft, key)
    case 'confirm':
      return confirmKey(next, state.mode, key)
    case 'normal':
      return normalKey(next, key, ctx)
  }
}

function filterKey(state: UiState, key: KeyPress): Outcome {
  const split = splitEnter(key)
  if (split) return filterKey(filterKey(state, split[0]).state, split[1])
  const list = listOf(state.view)
  const current = state.filters[list]
  if (key.escape) return { state: withFilter({ ...state, mode: { kind: 'normal' } }, list, '') }
  if (key.return) return { state: { ...state, mode: { kind: 'normal' } } }
  if (key.backspace || key.delete) return { state: withFilter(state, list, current.slice(0, -1)) }
  const text = printable(key)
  return text ? { state: withFilter(state, list, current + text) } : { state }
}

function withFilter(state: UiState, list: ListName, filter: string): UiState {
  return {
    ...state,
    filters: { ...state.filters, [list]: filter },
    scroll: { ...state.scroll, [list]: { cursor: 0, offset: 0 } },
  }
}

/**
 * Text that arrives with its Enter in one read (`events\r`: pasted, or typed faster than a frame) is the text,
 * then the Enter; the terminal sends no separate key for it.
 */
function splitEnter(key: KeyPress): [KeyPress, KeyPress] | undefined {
  if (key.return || key.ctrl || key.escape) return undefined
  const at = key.input.search(/[\r\n]/)
  if (at < 0) return undefined
  return [{ input: key.input.slice(0, at) }, { input: '', return: true }]
}

function commandKey(state: UiState, draft: string, key: KeyPress): Outcome {
  const split = splitEnter(key)
  if (split) {
    const typed = commandKey(state, draft, split[0])
    const mode = typed.state.mode
    return mode.kind === 'command' ? commandKey(typed.state, mode.draft, split[1]) : typed
  }
  if (key.escape) return { state: { ...state, mode: { kind: 'normal' } } }
  if (key.backspace || key.delete) {
    if (draft === '') return { state: { ...state, mode: { kind: 'normal' } } }
    return { state: { ...state, mode: { kind: 'command', draft: draft.slice(0, -1) } } }
  }
  if (key.return) {
    const word = draft.trim().toLowerCase()
    const normal: UiState = { ...state, mode: { kind: 'normal' } }
    if (word === '') return { state: normal }
    if (word === 'q' || word === 'quit' || word === 'q!') return { state: normal, intent: { type: 'quit' } }
    if (word === 'help' || word === '?') return { state: { ...state, mode: { kind: 'help' } } }
    const view = VIEW_NAMES[word]
    if (view) return { state: { ...normal, view } }
    return {
      state: { ...normal, message: { text: `no view :${word} (try :apps, :migrations, :events)`, tone: 'warn' } },
    }
  }
  const text = printable(key)
  return { state: { ...state, mode: { kind: 'command', draft: draft + text } } }
}

function confirmKey(state: UiState, mode: Extract<Mode, { kind: 'confirm' }>, key: KeyPress): Outcome {
  const normal: UiState = { ...state, mode: { kind: 'normal' } }
  if (key.input === 'y' || key.input === 'Y') {
    if (mode.action === 'quit') return { state: normal, intent: { type: 'quit' } }
    return { state: normal, intent: { type: 'control', action: mode.action } }
  }
  return {
    state: { ...normal, message: { text: `${mode.action === 'quit' ? 'quit' : mode.action} cancelled`, tone: 'info' } },
  }
}

function normalKey(state: UiState, key: KeyPress, ctx: KeyContext): Outcome {
  const list = listOf(state.view)
  const { input } = key
  if (key.ctrl && input === 'c') return quit(state, ctx)
  if (key.ctrl && (input === 'f' || input === 'd')) return { state: move(state, list, ctx.page, ctx) }
  if (key.ctrl && (input === 'b' || input === 'u')) return { state: move(state, list, -ctx.page, ctx) }
  if (key.upArrow || input === 'k') return { state: move(state, list, -1, ctx) }
  if (key.downArrow || input === 'j') return { state: move(state, list, 1, ctx) }
  if (key.pageUp) return { state: move(state, list, -ctx.page, ctx) }
  if (key.pageDown || input === ' ') return { state: move(state, list, ctx.page, ctx) }
  if (key.home || input === 'g') return { state: move(state, list, Number.NEGATIVE_INFINITY, ctx) }
  if (key.end || input === 'G') return { state: move(state, list, Number.POSITIVE_INFINITY, ctx) }
  if (key.tab) {
    const view = VIEWS[(VIEWS.indexOf(state.view) + 1) % VIEWS.length]!
    return { state: { ...state, view } }
  }
  if (key.escape) {
    if (state.filters[list] !== '') return { state: withFilter(state, list, '') }
    return { state: { ...state, view: 'overview' } }
  }
  if (key.return) {
    if (state.view !== 'migrations') return { state }
    const id = ctx.fleetIds[state.scroll.migrations.cursor]
    if (!id) return { state }
    return {
      state: { ...state, view: 'overview', message: { text: `watching ${id}`, tone: 'info' } },
      intent: { type: 'watch', migrationId: id },
    }
  }
  switch (input) {
    case 'q':
      return quit(state, ctx)
    case '?':
      return { state: { ...state, mode: { kind: 'help' } } }
    case '/':
      return { state: { ...state, mode: { kind: 'filter' } } }
    case ':':
      return { state: { ...state, mode: { kind: 'command', draft: '' } } }
    case 's': {
      if (list !== 'apps') return { state }
      const key = SORT_KEYS[(SORT_KEYS.indexOf(state.sort.key) + 1) % SORT_KEYS.length]!
      return { state: resetScroll({ ...state, sort: { key, descending: false } }, 'apps') }
    }
    case 'S':
      if (list !== 'apps') return { state }
      return { state: resetScroll({ ...state, sort: { ...state.sort, descending: !state.sort.descending } }, 'apps') }
  }
  const action = CONTROL_KEYS[input]
  if (action) return controlKey(state, action, ctx)
  return { state }
}

function quit(state: UiState, ctx: KeyContext): Outcome {
  if (ctx.busy) {
    return {
      state: {
        ...state,
        mode: { kind: 'confirm', action: 'quit', migrationId: ctx.busy.migrationId, what: ctx.busy.what },
      },
    }
  }
  return { state, intent: { type: 'quit' } }
}

function controlKey(state: UiState, action: ControlAction, ctx: KeyContext): Outcome {
  if (ctx.readonly) {
    return { state: { ...state, message: { text: 'read-only: control keys are off (--readonly)', tone: 'warn' } } }
  }
  if (!ctx.migrationId) {
    return {
      state: { ...state, message: { text: 'no migration is watched: pick one in :migrations (Enter)', tone: 'warn' } },
    }
  }
  if (action === 'abort' || action === 'rollback') {
    return { state: { ...state, mode: { kind: 'confirm', action, migrationId: ctx.migrationId } } }
  }
  return { state, intent: { type: 'control', action } }
}

function resetScroll(state: UiState, list: ListName): UiState {
  return { ...state, scroll: { ...state.scroll, [list]: { cursor: 0, offset: 0 } } }
}

/** Moves a list's cursor by `delta` rows (±Infinity for the ends), keeping it on screen. */
function move(state: UiState, list: ListName, delta: number, ctx: KeyContext): UiState {
  const { cursor, offset } = state.scroll[list]
  const last = Math.max(0, ctx.rows - 1)
  const target = delta === Number.NEGATIVE_INFINITY ? 0 : delta === Number.POSITIVE_INFINITY ? last : cursor + delta
  const nextCursor = Math.min(last, Math.max(0, target))
  return { ...state, scroll: { ...state.scroll, [list]: follow({ cursor: nextCursor, offset }, ctx.page, ctx.rows) } }
}

/** The scroll with the offset moved as little as it takes to show the cursor, within the list. */
export function follow(scroll: Scroll, page: number, rows: number): Scroll {
  const size = Math.max(1, page)
  const cursor = Math.min(Math.max(0, rows - 1), Math.max(0, scroll.cursor))
  let offset = scroll.offset
  if (cursor < offset) offset = cursor
  if (cursor >= offset + size) offset = cursor - size + 1
  offset = Math.max(0, Math.min(offset, Math.max(0, rows - size)))
  return { cursor, offset }
}
