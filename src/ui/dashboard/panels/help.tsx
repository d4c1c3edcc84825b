// `?`: every key, in the groups k9s users expect.
import { Box, Text } from 'ink'
import { memo } from 'react'
import { cell } from '../format.js'
import { useLook } from '../theme.js'
import { PanelTitle } from './title.js'

export interface HelpPanelProps {
  readonly: boolean
  height: number
  width: number
}

export const HELP_LINES: ReadonlyArray<readonly [string, string]> = [
  ['', 'Views'],
  [':apps  :migrations  :events  :overview', 'jump to a view (Tab cycles them, Esc goes back)'],
  ['/', 'filter the list: words must all match, !word leaves out; Esc clears'],
  ['j k  ↑ ↓  PgUp PgDn  g G', 'move in the list'],
  ['s  S', 'sort the apps by the next column / reverse the order'],
  ['Enter', 'in :migrations, watch the selected migration'],
  ['', 'Control (the watched migration)'],
  ['p  r', 'pause / resume: the steps in flight finish, no new one starts'],
  ['a', 'abort (asks first): stops starting steps; it can then be rolled back'],
  ['b', 'roll back (asks first): every moved app goes back, the last moved first'],
  ['+  -', 'raise / lower the rate limit one step'],
  ['', 'Other'],
  ['?', 'this help'],
  ['q  :q  Ctrl-C', 'quit (a migration run by another cfctl carries on)'],
]

function HelpPanelView({ readonly, height, width }: HelpPanelProps) {
  const look = useLook()
  const keyWidth = 44
  const lines = HELP_LINES.slice(0, Math.max(0, height - 2))
  return (
    <Box flexDirection="column" width={width}>
      <PanelTitle title="Help" width={width} />
      {lines.map(([keys, what]) =>
        keys === '' ? (
          <Text key={what} {...look('header')} wrap="truncate">
            {cell(what, width)}
          </Text>
        ) : (
          <Text key={keys} wrap="truncate">
            <Text {...look('info')}>{cell(`  ${keys}`, keyWidth)}</Text>
            {cell(what, Math.max(0, width - keyWidth))}
          </Text>
        ),
      )}
      <Text {...look(readonly ? 'warn' : 'dim')} wrap="truncate">
        {cell(readonly ? 'READ-ONLY: started with --readonly, the control keys are off' : '', width)}
      </Text>
      {Array.from({ length: Math.max(0, height - 2 - lines.length) }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: filler lines keep the panel's height
        <Text key={`blank-${i}`}> </Text>
      ))}
    </Box>
  )
}

/** Drawn again only when its props change: a key that moves the table's cursor leaves it be. */
export const HelpPanel = memo(HelpPanelView)
