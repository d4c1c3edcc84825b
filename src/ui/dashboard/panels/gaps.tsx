// Routability gaps: the stretches in which no instance of a moving app answered its route, the newest
// first, with how many there were and the longest. A gap still open when its step ended is marked.
import { Box, Text } from 'ink'
import { memo } from 'react'
import { cell, count, shortDuration } from '../format.js'
import type { GapsView } from '../model.js'
import { useLook } from '../theme.js'
import { PanelTitle } from './title.js'

export interface GapsPanelProps {
  gaps: GapsView
  height: number
  width: number
}

function GapsPanelView({ gaps, height, width }: GapsPanelProps) {
  const look = useLook()
  const body = Math.max(0, height - 1)
  const title = gaps.count === 0 ? 'Gaps: none' : `Gaps ${count(gaps.count)} · longest ${shortDuration(gaps.longestMs)}`
  const shown = gaps.list.slice(0, body)
  const durationWidth = 8
  return (
    <Box flexDirection="column" width={width}>
      <PanelTitle title={title} width={width} look={gaps.count > 0 ? 'bad' : 'title'} />
      {shown.map((gap, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: gaps of one app can share a start time
        <Text key={`${gap.at}-${gap.appName}-${i}`} {...look(gap.open ? 'bad' : 'warn')} wrap="truncate">
          {cell(
            `${cell(gap.appName, Math.max(1, width - durationWidth - 7))} ${cell(shortDuration(gap.ms), durationWidth, 'right')}${gap.open ? ' open' : ''}`,
            width,
          )}
        </Text>
      ))}
      {Array.from({ length: body - shown.length }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: filler lines keep the panel's height
        <Text key={`blank-${i}`} {...look('dim')}>
          {i === 0 && shown.length === 0 ? cell('every moved app stayed routable', width) : ' '}
        </Text>
      ))}
    </Box>
  )
}

/** Drawn again only when its props change: a key that moves the table's cursor leaves it be. */
export const GapsPanel = memo(GapsPanelView)
