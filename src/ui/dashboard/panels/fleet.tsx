// Every migration of the journal at a glance, the newest first: where it goes, its state, progress and
// failures, and who paused it. Enter watches the selected one; the watched one is starred.
import { Box, Text } from 'ink'
import { memo } from 'react'
import { bar, cell, clockTime, count, percent } from '../format.js'
import type { Scroll } from '../interaction.js'
import type { FleetEntry } from '../model.js'
import { useLook } from '../theme.js'
import { PanelTitle } from './title.js'

export interface FleetPanelProps {
  /** In display order, after the view's filter. */
  fleet: readonly FleetEntry[]
  watchedId: string | undefined
  scroll: Scroll
  height: number
  width: number
  now: number
  filter: string
}

const W = { marker: 2, id: 20, to: 5, state: 22, progress: 15, done: 11, failed: 6, updated: 10 }
const FIXED = W.marker + W.id + W.to + W.state + W.progress + W.done + W.failed + W.updated + 8

/** The time of the last change, or its day when that is not today: a time, unlike an age, stays true between frames. */
function when(at: number, now: number): string {
  return now - at < 86_400_000 ? clockTime(at) : new Date(at).toISOString().slice(0, 10)
}

function row(values: string[], target: number, width: number): string {
  const [marker, id, to, state, progress, done, failed, updated, where] = values
  return cell(
    [
      cell(marker!, W.marker),
      cell(id!, W.id),
      cell(to!, W.to),
      cell(state!, W.state),
      cell(progress!, W.progress),
      cell(done!, W.done, 'right'),
      cell(failed!, W.failed, 'right'),
      cell(updated!, W.updated, 'right'),
      cell(where!, target),
    ].join(' '),
    width,
  )
}

function FleetPanelView({ fleet, watchedId, scroll, height, width, now, filter }: FleetPanelProps) {
  const look = useLook()
  const body = Math.max(0, height - 2)
  const target = Math.max(0, width - FIXED)
  const shown = fleet.slice(scroll.offset, scroll.offset + body)
  const title = `Migrations ${count(fleet.length)}${filter ? ` · filter "${filter}"` : ''} · Enter watches`
  return (
    <Box flexDirection="column" width={width}>
      <PanelTitle title={title} width={width} />
      <Text {...look('header')} wrap="truncate">
        {row(['', 'ID', 'TO', 'STATE', 'PROGRESS', 'DONE/TOTAL', 'FAILED', 'UPDATED', 'TARGET'], target, width)}
      </Text>
      {shown.map((m, i) => {
        const selected = scroll.offset + i === scroll.cursor
        const settled = m.done + m.failed
        const state = m.pausedBy ? `${m.state} by ${m.pausedBy}` : m.state
        const text = row(
          [
            `${selected ? '>' : ''}${m.id === watchedId ? '*' : ''}`,
            m.id,
            m.to,
            state,
            `${bar(m.total > 0 ? settled / m.total : 0, 10)} ${percent(settled, m.total)}`,
            `${count(m.done)}/${count(m.total)}`,
            count(m.failed),
            when(m.updatedAt, now),
            m.target,
          ],
          target,
          width,
        )
        const tone = m.failed > 0 || m.state === 'failed' ? 'bad' : m.state === 'paused' ? 'warn' : 'plain'
        return (
          <Text key={m.id} {...look(tone)} {...(selected ? look('selected') : {})} wrap="truncate">
            {text}
          </Text>
        )
      })}
      {Array.from({ length: body - shown.length }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: filler lines keep the panel's height
        <Text key={`blank-${i}`} {...look('dim')}>
          {i === 0 && shown.length === 0 ? cell('  no migration in the journal', width) : ' '}
        </Text>
      ))}
    </Box>
  )
}

/** Drawn again only when its props change: a key that moves the table's cursor leaves it be. */
export const FleetPanel = memo(FleetPanelView)
