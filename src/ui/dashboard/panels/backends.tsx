// DEA and Diego side by side in numbers: apps, instances, memory used against capacity as a bar, and the
// nodes (DEAs, cells) up. Five lines: a heading and two per backend.
import { Box, Text } from 'ink'
import { memo, type ReactNode } from 'react'
import { formatMb } from '../../text.js'
import { bar, cell, count, percent } from '../format.js'
import type { BackendsView, BackendView } from '../model.js'
import { useLook } from '../theme.js'
import { PanelTitle } from './title.js'

export const BACKENDS_HEIGHT = 5

export interface BackendsPanelProps {
  backends: BackendsView | undefined
  width: number
  /** The last poll's error, shown while older numbers stay on screen. */
  error?: string | undefined
}

function BackendsPanelView({ backends, width, error }: BackendsPanelProps) {
  const look = useLook()
  const lines = backends ? undefined : [error ? `apps: ${error}` : 'reading apps and capacity…', '', '', '']
  return (
    <Box flexDirection="column" width={width}>
      <PanelTitle title={error && backends ? `Backends (stale: ${error})` : 'Backends'} width={width} />
      {lines
        ? lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines of a placeholder
            <Text key={i} {...look(error ? 'bad' : 'dim')} wrap="truncate">
              {line ? cell(line, width) : ' '}
            </Text>
          ))
        : (['dea', 'diego'] as const).map((name) => <BackendLines key={name} usage={backends![name]} width={width} />)}
    </Box>
  )
}

function BackendLines({ usage, width }: { usage: BackendView; width: number }) {
  const look = useLook()
  const label = usage.name === 'dea' ? 'DEA' : 'Diego'
  const capacity = usage.capacity
  const nodes = capacity ? `${usage.name === 'dea' ? 'DEAs' : 'cells'} ${capacity.nodesUp}/${capacity.nodes} up` : ''
  const down = capacity !== undefined && capacity.nodesUp < capacity.nodes
  const head = `${cell(label, 6)} ${count(usage.apps)} apps  ${count(usage.instances)} inst  `
  let second: ReactNode
  if (!capacity) second = <Text {...look('dim')}>{cell('       capacity not reported by this target', width)}</Text>
  else {
    const used = capacity.memoryMb.used
    const total = capacity.memoryMb.total
    const fraction = total > 0 ? used / total : 0
    const containers =
      capacity.containers.total === null
        ? `cont ${count(capacity.containers.used)}`
        : `cont ${count(capacity.containers.used)}/${count(capacity.containers.total)}`
    const tail = ` ${percent(used, total).padStart(4)} ${formatMb(used)}/${formatMb(total)}  ${containers}`
    // The same bar width for both backends, so their bars line up.
    const barWidth = Math.max(4, Math.min(20, width - 11 - 34))
    second = (
      <Text wrap="truncate">
        {'       mem '}
        <Text {...look(fraction > 0.9 ? 'bad' : fraction > 0.75 ? 'warn' : 'good')}>{bar(fraction, barWidth)}</Text>
        {cell(tail, Math.max(0, width - 11 - barWidth))}
      </Text>
    )
  }
  return (
    <>
      <Text wrap="truncate">
        {head}
        <Text {...look(down ? 'bad' : 'plain')}>{cell(nodes, Math.max(0, width - head.length))}</Text>
      </Text>
      {second}
    </>
  )
}

/** Drawn again only when its props change: a key that moves the table's cursor leaves it be. */
export const BackendsPanel = memo(BackendsPanelView)
