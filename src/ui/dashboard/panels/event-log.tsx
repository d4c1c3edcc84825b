// The watched migration's events in words, the newest first: flips, verifications, failures, gaps,
// pauses and rate changes, as the journal records them (whichever process wrote them).
import { Box, Text } from 'ink'
import { memo } from 'react'
import { cell, clockTime } from '../format.js'
import type { Scroll } from '../interaction.js'
import type { LogLine } from '../model.js'
import { useLook } from '../theme.js'
import { PanelTitle } from './title.js'

export interface EventLogProps {
  /** In display order: the newest first. */
  lines: readonly LogLine[]
  /** Lines the panel may use, its heading included. */
  height: number
  width: number
  scroll?: Scroll
  title?: string
}

function EventLogView({ lines, height, width, scroll, title }: EventLogProps) {
  const look = useLook()
  const body = Math.max(0, height - 1)
  const offset = scroll?.offset ?? 0
  const shown = lines.slice(offset, offset + body)
  return (
    <Box flexDirection="column" width={width}>
      <PanelTitle title={title ?? 'Events'} width={width} />
      {shown.map((line, i) => {
        const selected = scroll !== undefined && offset + i === scroll.cursor
        return (
          <Text key={line.seq} {...look(line.tone)} {...(selected ? look('selected') : {})} wrap="truncate">
            {cell(`${selected ? '>' : ' '}${clockTime(line.at)} ${line.text}`, width)}
          </Text>
        )
      })}
      {Array.from({ length: body - shown.length }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: filler lines keep the panel's height
        <Text key={`blank-${i}`} {...look('dim')}>
          {i === 0 && shown.length === 0 ? cell(' no events yet', width) : ' '}
        </Text>
      ))}
    </Box>
  )
}

/** Drawn again only when its props change: a key that moves the table's cursor leaves it be. */
export const EventLog = memo(EventLogView)
