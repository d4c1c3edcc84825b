// The watched migration in five lines: which and where to, its state (and who paused it), a progress bar,
// the counts, and the pace now against the limit with a sparkline of the last few periods and the ETA.
import { Box, Text } from 'ink'
import { memo } from 'react'
import { bar, cell, count, percent, shortDuration, sparkline } from '../format.js'
import type { MigrationView } from '../model.js'
import { useLook } from '../theme.js'
import { PanelTitle } from './title.js'

export const MIGRATION_HEIGHT = 5

export interface MigrationPanelProps {
  migration: MigrationView | undefined
  width: number
}

function MigrationPanelView({ migration, width }: MigrationPanelProps) {
  const look = useLook()
  if (!migration) {
    return (
      <Box flexDirection="column" width={width}>
        <PanelTitle title="Migration" width={width} />
        <Text wrap="truncate">{cell('no migration for this target in the journal', width)}</Text>
        <Text {...look('dim')} wrap="truncate">
          {cell(':migrations lists every migration of the journal', width)}
        </Text>
        <Text> </Text>
        <Text> </Text>
      </Box>
    )
  }
  const { counts, total, pace } = migration
  const settled = counts.done + counts.failed + counts['rolled-back']
  const stateLook =
    migration.state === 'failed' || migration.pausedBy === 'failure-threshold'
      ? 'bad'
      : migration.state === 'paused' || migration.state === 'aborted' || migration.state === 'rolling-back'
        ? 'warn'
        : migration.state === 'completed' || migration.state === 'rolled-back'
          ? 'good'
          : 'info'
  const state = `${migration.pausedBy ? `${migration.state} by ${migration.pausedBy}` : migration.state}${migration.catchingUp ? ' · reading history…' : ''}`
  const settings = ` · rate ${migration.rate ?? 'no limit'} · max in flight ${migration.maxInFlight}`
  const progressTail = ` ${percent(settled, total).padStart(4)}  ${count(settled)}/${count(total)}`
  const barWidth = Math.max(4, width - progressTail.length)
  const countsLine = [
    `done ${count(counts.done)}`,
    `in flight ${count(migration.inFlight)}`,
    `failed ${count(counts.failed)}`,
    `pending ${count(counts.pending)}`,
    ...(counts['rolled-back'] > 0 ? [`rolled back ${count(counts['rolled-back'])}`] : []),
  ]
  const paceHead = `rate ${pace.now}${pace.limit ? ` of ${pace.limit}` : ' (no limit)'} `
  const eta =
    migration.state === 'paused'
      ? '  ETA paused'
      : migration.state === 'running' && pace.etaMs !== null
        ? `  ETA ${shortDuration(pace.etaMs)}`
        : ''
  const sparkWidth = Math.max(0, Math.min(pace.spark.length, width - paceHead.length - eta.length))
  const spark = sparkline(pace.spark.slice(pace.spark.length - sparkWidth), pace.sparkMax)
  return (
    <Box flexDirection="column" width={width}>
      <PanelTitle title={`Migration ${migration.id} → ${migration.to}`} width={width} />
      <Text wrap="truncate">
        <Text {...look(stateLook)}>{state}</Text>
        {cell(settings, Math.max(0, width - state.length))}
      </Text>
      <Text wrap="truncate">
        <Text {...look(counts.failed > 0 ? 'warn' : 'good')}>{bar(total > 0 ? settled / total : 0, barWidth)}</Text>
        {progressTail}
      </Text>
      <Text wrap="truncate">
        {countsLine.map((part, i) => (
          <Text key={part} {...look(part.startsWith('failed') && counts.failed > 0 ? 'bad' : 'plain')}>
            {i > 0 ? '  ' : ''}
            {part}
          </Text>
        ))}
      </Text>
      <Text wrap="truncate">
        {paceHead}
        <Text {...look('info')}>{spark}</Text>
        {eta}
      </Text>
    </Box>
  )
}

/** Drawn again only when its props change: a key that moves the table's cursor leaves it be. */
export const MigrationPanel = memo(MigrationPanelView)
