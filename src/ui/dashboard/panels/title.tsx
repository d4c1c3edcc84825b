// A panel's first line: its title set in a rule across the panel's width.
import { Text } from 'ink'
import { rule } from '../format.js'
import { type Look, useLook } from '../theme.js'

export function PanelTitle({ title, width, look = 'title' }: { title: string; width: number; look?: Look }) {
  const lookOf = useLook()
  return (
    <Text {...lookOf(look)} wrap="truncate">
      {rule(title, width)}
    </Text>
  )
}
