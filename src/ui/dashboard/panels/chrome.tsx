// The first and last lines of the screen: what is watched (target, apps, how fresh), and the prompt, the
// question awaiting a y, the outcome of the last key, or the keys that work here.
import { Text } from 'ink'
import type { OwnWork } from '../control.js'
import { cell, clockTime, count } from '../format.js'
import type { Mode, View } from '../interaction.js'
import type { Tone } from '../model.js'
import { type Look, useLook } from '../theme.js'

export interface HeaderProps {
  target: string
  view: View
  apps: number
  loadedAt: number | undefined
  readonly: boolean
  busy: OwnWork | undefined
  width: number
}

export function Header({ target, view, apps, loadedAt, readonly, busy, width }: HeaderProps) {
  const look = useLook()
  // The time of the last poll rather than its age, so an idle dashboard has no reason to draw.
  const fresh = loadedAt === undefined ? 'apps not read yet' : `${count(apps)} apps, read ${clockTime(loadedAt)}`
  const right = `${busy ? `${busy.what === 'rollback' ? 'rolling back' : 'running'} ${busy.migrationId} here · ` : ''}${readonly ? 'READ-ONLY · ' : ''}?:help q:quit`
  const left = `cfctl dashboard :${view} · ${target} · ${fresh}`
  const room = Math.max(0, width - right.length - 1)
  return (
    <Text wrap="truncate">
      <Text {...look('header')}>{cell(left, room)}</Text>{' '}
      <Text {...look(readonly || busy ? 'warn' : 'dim')}>{right}</Text>
    </Text>
  )
}

export interface StatusBarProps {
  mode: Mode
  filter: string
  message: { text: string; tone: Tone } | undefined
  readonly: boolean
  width: number
}

const CONTROL_HINT = 'p pause  r resume  a abort  b rollback  +/- rate  '
const VIEW_HINT = '/ filter  : view  s sort  ? help  q quit'

export function StatusBar({ mode, filter, message, readonly, width }: StatusBarProps) {
  const look = useLook()
  const say = (text: string, tone: Look) => (
    <Text {...look(tone)} wrap="truncate">
      {cell(text, width)}
    </Text>
  )
  switch (mode.kind) {
    case 'filter':
      return say(`/${filter}▌   Enter keeps it · Esc clears it · !word leaves matches out`, 'info')
    case 'command':
      return say(`:${mode.draft}▌   apps · migrations · events · overview · q   (Enter, Esc)`, 'info')
    case 'confirm': {
      const id = mode.migrationId ?? ''
      const question =
        mode.action === 'abort'
          ? `Abort ${id}? The steps in flight finish, the rest stay pending.`
          : mode.action === 'rollback'
            ? `Roll back ${id}? Every app it moved goes back, the last moved first.`
            : mode.what === 'rollback'
              ? `A rollback of ${id} runs here. Quit and pause it (cfctl rollback ${id} carries on)?`
              : `${id} runs in this dashboard. Quit and pause it (cfctl migrate --resume ${id} carries on)?`
      return say(`${question} y/N`, 'warn')
    }
    case 'help':
      return say('Esc or ? closes the help', 'dim')
    case 'normal':
      if (message) return say(message.text, message.tone)
      return say(readonly ? `READ-ONLY  ${VIEW_HINT}` : CONTROL_HINT + VIEW_HINT, 'dim')
  }
}
