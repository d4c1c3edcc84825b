// The dashboard: lays the panels out for the terminal's size (again on every resize), turns keys into
// interaction state through interpretKey, and carries out the intents (quit, control, watch) on the store.
// Everything it draws comes from one DashboardSnapshot, which the store publishes at most ten times a second.
import { Box, useApp, useInput, useWindowSize } from 'ink'
import { type ReactNode, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import {
  follow,
  type Intent,
  initialUi,
  interpretKey,
  type KeyContext,
  type KeyPress,
  listOf,
  type UiState,
} from './interaction.js'
import type { DashboardSnapshot, FleetEntry, LogLine } from './model.js'
import { AppTable, tableBodyHeight } from './panels/app-table.js'
import { BACKENDS_HEIGHT, BackendsPanel } from './panels/backends.js'
import { Header, StatusBar } from './panels/chrome.js'
import { EventLog } from './panels/event-log.js'
import { FleetPanel } from './panels/fleet.js'
import { GapsPanel } from './panels/gaps.js'
import { HelpPanel } from './panels/help.js'
import { MIGRATION_HEIGHT, MigrationPanel } from './panels/migration.js'
import type { DashboardStore } from './store.js'
import { tableView, viewFollowsSteps } from './table.js'

/** A notice from a control key stays this long on the status bar, unless a key clears it sooner. */
const NOTICE_MS = 10_000
/** At least this wide, the backends and migration panels sit side by side. */
const SIDE_BY_SIDE = 100

export interface DashboardProps {
  store: DashboardStore
  readonly: boolean
  /** The interaction state to start from (tests start in a view). */
  initial?: Partial<UiState>
}

/** Subscribes to the store: one snapshot per published frame. */
export function useDashboard(store: DashboardStore): DashboardSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot)
}

interface Layout {
  columns: number
  top: { height: number; sideBySide: boolean; width: number; showBackends: boolean }
  table: number
  bottom: number
  body: number
}

/** Heights of the overview's parts so the whole screen is exactly `rows` lines. */
export function overviewLayout(columns: number, rows: number): Layout {
  const body = Math.max(1, rows - 2)
  const sideBySide = columns >= SIDE_BY_SIDE
  let showBackends = true
  let top = sideBySide ? MIGRATION_HEIGHT : MIGRATION_HEIGHT + BACKENDS_HEIGHT
  if (body - top < 6) {
    showBackends = sideBySide && body - MIGRATION_HEIGHT >= 4
    top = body - MIGRATION_HEIGHT >= 4 ? MIGRATION_HEIGHT : 0
  }
  const room = body - top
  const bottom = room >= 24 ? 7 : room >= 14 ? 4 : 0
  return {
    columns,
    top: { height: top, sideBySide, width: sideBySide ? Math.floor((columns - 1) / 2) : columns, showBackends },
    table: room - bottom,
    bottom,
    body,
  }
}

function filterLines(lines: readonly LogLine[], filter: string): LogLine[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean)
  const newestFirst = lines.slice().reverse()
  if (words.length === 0) return newestFirst
  return newestFirst.filter((line) => {
    const text = line.text.toLowerCase()
    return words.every((w) => (w.startsWith('!') ? !text.includes(w.slice(1)) : text.includes(w)))
  })
}

function filterFleet(fleet: readonly FleetEntry[], filter: string): FleetEntry[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return fleet.slice()
  return fleet.filter((m) => {
    const text = `${m.id} ${m.state} ${m.to} ${m.target} ${m.pausedBy ?? ''}`.toLowerCase()
    return words.every((w) => (w.startsWith('!') ? !text.includes(w.slice(1)) : text.includes(w)))
  })
}

export function Dashboard({ store, readonly, initial }: DashboardProps) {
  const snapshot = useDashboard(store)
  const { columns, rows } = useWindowSize()
  const { exit } = useApp()
  const [ui, setUi] = useState(() => initialUi(initial))
  // Keys that arrive before the next render must see the state the previous key left.
  const uiRef = useRef(ui)

  const followSteps = viewFollowsSteps(ui.filters.apps, ui.sort)
  const stepsKey = followSteps ? snapshot.steps.version : -1
  // biome-ignore lint/correctness/useExhaustiveDependencies: the step states matter only when stepsKey says so
  const appView = useMemo(
    () => tableView(snapshot.apps.fleet, snapshot.steps.byGuid, ui.filters.apps, ui.sort, snapshot.steps.version),
    [snapshot.apps.fleet, stepsKey, ui.filters.apps, ui.sort],
  )
  const eventLines = useMemo(
    () => filterLines(snapshot.events, ui.filters.events),
    [snapshot.events, ui.filters.events],
  )
  const fleet = useMemo(
    () => filterFleet(snapshot.fleet, ui.filters.migrations),
    [snapshot.fleet, ui.filters.migrations],
  )

  const layout = overviewLayout(columns, rows)
  const list = listOf(ui.view)
  const listRows = list === 'apps' ? appView.length : list === 'migrations' ? fleet.length : eventLines.length
  const tableHeight = ui.view === 'apps' ? layout.body : layout.table
  const page =
    list === 'apps'
      ? tableBodyHeight(tableHeight)
      : list === 'migrations'
        ? Math.max(1, layout.body - 2)
        : Math.max(1, layout.body - 1)
  const scroll = {
    apps: follow(ui.scroll.apps, tableBodyHeight(tableHeight), appView.length),
    migrations: follow(ui.scroll.migrations, Math.max(1, layout.body - 2), fleet.length),
    events: follow(ui.scroll.events, Math.max(1, layout.body - 1), eventLines.length),
  }

  const context: KeyContext = {
    readonly,
    migrationId: snapshot.migration?.id,
    rows: listRows,
    page,
    fleetIds: fleet.map((m) => m.id),
    busy: snapshot.busy,
  }

  const carryOut = (intent: Intent) => {
    switch (intent.type) {
      case 'quit':
        exit()
        return
      case 'control':
        void store.act(intent.action)
        return
      case 'watch':
        store.watch(intent.migrationId)
        return
    }
  }

  useInput((input, key) => {
    // Keys typed faster than a read (or sent by tmux) arrive together: take them one at a time.
    const chars = input.length > 1 && !key.ctrl && !key.meta ? [...input] : [input]
    let state: UiState = { ...uiRef.current, scroll }
    for (const char of chars) {
      const press: KeyPress = { ...key, input: char }
      const outcome = interpretKey(state, press, context)
      state = outcome.state
      if (outcome.intent) carryOut(outcome.intent)
    }
    uiRef.current = state
    setUi(state)
  })

  const notice = snapshot.notice && snapshot.now - snapshot.notice.at < NOTICE_MS ? snapshot.notice : undefined
  const message = ui.message ?? notice

  // The apps view and the overview show the same table, each in the height it leaves it.
  const appTable = (height: number) => (
    <AppTable
      fleet={snapshot.apps.fleet}
      view={appView}
      steps={snapshot.steps.byGuid}
      scroll={scroll.apps}
      height={height}
      width={columns}
      sort={ui.sort}
      filter={ui.filters.apps}
      loading={snapshot.apps.loadedAt === undefined}
    />
  )
  const gapsWidth = Math.min(44, Math.floor(columns / 3))
  let content: ReactNode
  if (ui.mode.kind === 'help') content = <HelpPanel readonly={readonly} height={layout.body} width={columns} />
  else if (ui.view === 'apps') {
    content = appTable(layout.body)
  } else if (ui.view === 'migrations') {
    content = (
      <FleetPanel
        fleet={fleet}
        watchedId={snapshot.migration?.id}
        scroll={scroll.migrations}
        height={layout.body}
        width={columns}
        now={snapshot.now}
        filter={ui.filters.migrations}
      />
    )
  } else if (ui.view === 'events') {
    content = (
      <Box flexDirection="row" columnGap={1}>
        <EventLog
          lines={eventLines}
          height={layout.body}
          width={columns - gapsWidth - 1}
          scroll={scroll.events}
          title={`Events${ui.filters.events ? ` · filter "${ui.filters.events}"` : ''}`}
        />
        <GapsPanel gaps={snapshot.gaps} height={layout.body} width={gapsWidth} />
      </Box>
    )
  } else {
    const { top } = layout
    content = (
      <Box flexDirection="column">
        {top.height > 0 && (
          <Box flexDirection={top.sideBySide ? 'row' : 'column'} columnGap={1}>
            {top.showBackends && (
              <BackendsPanel backends={snapshot.backends} width={top.width} error={snapshot.apps.error} />
            )}
            <MigrationPanel
              migration={snapshot.migration}
              width={top.sideBySide && top.showBackends ? columns - top.width - 1 : columns}
            />
          </Box>
        )}
        {appTable(layout.table)}
        {layout.bottom > 0 && (
          <Box flexDirection="row" columnGap={1}>
            <EventLog lines={eventLines} height={layout.bottom} width={columns - gapsWidth - 1} />
            <GapsPanel gaps={snapshot.gaps} height={layout.bottom} width={gapsWidth} />
          </Box>
        )}
      </Box>
    )
  }

  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <Header
        target={snapshot.target}
        view={ui.view}
        apps={snapshot.apps.fleet.size}
        loadedAt={snapshot.apps.loadedAt}
        readonly={readonly}
        busy={snapshot.busy}
        width={columns}
      />
      {content}
      <StatusBar mode={ui.mode} filter={ui.filters[list]} message={message} readonly={readonly} width={columns} />
    </Box>
  )
}
