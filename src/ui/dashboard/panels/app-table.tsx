// The apps of the target, filtered and sorted, with where each stands in the watched migration. Only the
// rows that fit are drawn (the view is a list of indexes worked out elsewhere), so the table costs the same
// with 50 apps as with 50,000. Failing apps are red; the selected row is marked and, with colour, inverted;
// the last line tells the selected app's error, if it has one.
import { Box, Text } from 'ink'
import { memo } from 'react'
import { formatMb } from '../../text.js'
import { type Fleet, rowAt } from '../fleet.js'
import { cell, count } from '../format.js'
import type { Scroll } from '../interaction.js'
import type { StepStatus } from '../model.js'
import { backendNow, isFailing, SORT_LABELS, type SortOrder } from '../table.js'
import { useLook } from '../theme.js'
import { PanelTitle } from './title.js'

export interface AppTableProps {
  fleet: Fleet
  /** Indexes into the fleet, in display order. */
  view: readonly number[]
  steps: ReadonlyMap<string, StepStatus>
  scroll: Scroll
  /** Lines the panel may use: heading, column names, rows, and the detail line. */
  height: number
  width: number
  sort: SortOrder
  filter: string
  loading: boolean
}

/** Lines of a table of `height` that hold rows. */
export function tableBodyHeight(height: number): number {
  return Math.max(1, height - 3)
}

interface Layout {
  name: number
  place: number
}

const FIXED = { marker: 2, state: 7, inst: 4, mem: 6, backend: 7, step: 12 }
// Seven single spaces between the eight columns.
const FIXED_WIDTH = FIXED.marker + FIXED.state + FIXED.inst + FIXED.mem + FIXED.backend + FIXED.step + 7

function layout(width: number): Layout {
  const flexible = Math.max(16, width - FIXED_WIDTH)
  const name = Math.ceil(flexible * 0.55)
  return { name, place: flexible - name }
}

function line(
  columns: Layout,
  marker: string,
  values: [string, string, string, string, string, string, string],
  width: number,
): string {
  const [name, place, state, inst, mem, backend, step] = values
  return cell(
    [
      cell(marker, FIXED.marker),
      cell(name, columns.name),
      cell(place, columns.place),
      cell(state, FIXED.state),
      cell(inst, FIXED.inst, 'right'),
      cell(mem, FIXED.mem, 'right'),
      cell(backend, FIXED.backend),
      cell(step, FIXED.step),
    ].join(' '),
    width,
  )
}

function AppTableView(props: AppTableProps) {
  const { fleet, view, steps, scroll, height, width, sort, filter, loading } = props
  const look = useLook()
  const columns = layout(width)
  const body = tableBodyHeight(height)
  const shown = view.slice(scroll.offset, scroll.offset + body)
  const selected = view[scroll.cursor]
  const selectedStatus = selected === undefined ? undefined : steps.get(fleet.guid[selected]!)
  const title = [
    `Apps ${view.length === fleet.size ? count(fleet.size) : `${count(view.length)} of ${count(fleet.size)}`}`,
    `sort ${SORT_LABELS[sort.key]} ${sort.descending ? '↓' : '↑'}`,
    ...(filter ? [`filter "${filter}"`] : []),
  ].join(' · ')
  const lines = shown.map((index, i) => {
    const row = rowAt(fleet, index)
    const status = steps.get(row.guid)
    const isSelected = scroll.offset + i === scroll.cursor
    const text = line(
      columns,
      isSelected ? '>' : '',
      [
        row.name,
        `${row.org}/${row.space}`,
        row.state.toLowerCase(),
        String(row.instances),
        formatMb(row.memoryMb),
        backendNow(fleet, index, status),
        status ? status.state : '',
      ],
      width,
    )
    const failing = isFailing(status)
    const props = { ...look(failing ? 'bad' : 'plain'), ...(isSelected ? look('selected') : {}) }
    return (
      <Text key={row.guid} {...props} wrap="truncate">
        {text}
      </Text>
    )
  })
  const blank = body - lines.length
  const detail = selectedStatus?.error ? `${fleet.name[selected!]}: ${selectedStatus.error}` : ''
  return (
    <Box flexDirection="column" width={width}>
      <PanelTitle title={title} width={width} />
      <Text {...look('header')} wrap="truncate">
        {line(columns, '', ['NAME', 'ORG/SPACE', 'STATE', 'INST', 'MEM', 'BACKEND', 'STEP'], width)}
      </Text>
      {lines}
      {Array.from({ length: blank }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: filler lines keep the panel's height
        <Text key={`blank-${i}`}>
          {i === 0 && lines.length === 0 ? cell(loading ? '  reading apps…' : '  no app matches', width) : ' '}
        </Text>
      ))}
      <Text {...look('bad')} wrap="truncate">
        {detail ? cell(detail, width) : ' '}
      </Text>
    </Box>
  )
}

/** Drawn again only when its props change: a frame for another panel leaves the table be. */
export const AppTable = memo(AppTableView)
