// Colour as a choice made once: with NO_COLOR set (or output that is not a terminal) the panels get no
// colour and no emphasis at all, since ink's colour library does not read NO_COLOR itself.
import type { TextProps } from 'ink'
import { createContext, useContext } from 'react'
import type { Tone } from './model.js'

export interface Theme {
  color: boolean
}

export const ThemeContext = createContext<Theme>({ color: true })

export type Look = Tone | 'title' | 'selected' | 'plain' | 'header'

const LOOKS: Record<Look, TextProps> = {
  good: { color: 'green' },
  bad: { color: 'red' },
  warn: { color: 'yellow' },
  info: { color: 'cyan' },
  dim: { dimColor: true },
  title: { color: 'cyan', bold: true },
  header: { bold: true },
  selected: { inverse: true },
  plain: {},
}

/** Text props for a look, or none when colour is off. */
export function useLook(): (look: Look) => TextProps {
  const { color } = useContext(ThemeContext)
  return (look) => (color ? LOOKS[look] : {})
}
