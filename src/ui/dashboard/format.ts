// The dashboard's small pieces of text: bars, sparklines, counts, durations, clock times, and cells cut or
// padded to a width. Pure and free of ink, so the plain-text snapshot and the panels draw the same things.

const SPARKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const

/** `████░░░░` for a fraction from 0 to 1, `width` cells wide. */
export function bar(fraction: number, width: number): string {
  const cells = Math.max(0, Math.floor(width))
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
  const full = Math.round(f * cells)
  return '█'.repeat(full) + '░'.repeat(cells - full)
}

/**
 * One character per value, scaled to `max` (the largest value when not given); a zero is the lowest
 * block rather than a space, so an idle stretch still reads as part of the line.
 */
export function sparkline(values: readonly number[], max?: number): string {
  const top = max ?? Math.max(0, ...values)
  if (top <= 0) return SPARKS[0].repeat(values.length)
  return values
    .map((v) => SPARKS[Math.min(SPARKS.length - 1, Math.max(0, Math.round((v / top) * (SPARKS.length - 1))))])
    .join('')
}

/** 50,000 (by hand: toLocaleString goes through ICU, and this runs a few times a frame). */
export function count(n: number): string {
  const whole = Math.round(n)
  const digits = String(Math.abs(whole)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return whole < 0 ? `-${digits}` : digits
}

/** Whole percent of part over whole, `-` when whole is 0. */
export function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : '-'
}

/** Short durations for a status line: `850ms`, `42s`, `12m`, `1h05m`, `3d4h`. */
export function shortDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '∞'
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`
  if (ms < 10_000) return `${(ms / 1_000).toFixed(1)}s`
  const seconds = Math.round(ms / 1_000)
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 120) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`
  return `${Math.floor(hours / 24)}d${hours % 24}h`
}

/** HH:MM:SS in local time. */
export function clockTime(at: number): string {
  const d = new Date(at)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

/** Cuts text to `width` with an ellipsis, or pads it: every table cell is exactly `width` wide. */
export function cell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return ''
  const cut = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width)
}

/** `── Title ─────`: a section heading as wide as its panel. */
export function rule(title: string, width: number): string {
  const head = `── ${title} `
  if (head.length >= width) return cell(head, width)
  return head + '─'.repeat(width - head.length)
}
