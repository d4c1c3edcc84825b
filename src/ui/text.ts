// Plain-text rendering for commands that are not the dashboard: colour that honours NO_COLOR and
// non-TTY output, tables fitted to the terminal's width, CSV. No ink here: it loads only where it is used.

export function colorEnabled(
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return stream.isTTY === true
}

const wrap = (open: number, close: number) => (text: string, on: boolean) =>
  on ? `\u001b[${open}m${text}\u001b[${close}m` : text

const codes = {
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
}

type Painter = Record<keyof typeof codes, (text: string) => string>

/** Colours for a stream (stderr by default), or none when NO_COLOR is set or the stream is not a terminal. */
export function painterFor(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Painter {
  const on = colorEnabled(stream, env)
  return Object.fromEntries(
    Object.entries(codes).map(([name, fn]) => [name, (text: string) => fn(text, on)]),
  ) as Painter
}

export interface Column<Row> {
  header: string
  value: (row: Row) => string
  align?: 'left' | 'right'
  /** Columns that may be cut short when the terminal is narrow, from the widest down. */
  shrinkable?: boolean
  minWidth?: number
}

/**
 * Lays rows out as a table no wider than `width`: shrinkable columns are cut (with an ellipsis) from
 * the widest down until the table fits; the rest keep their width. `width` undefined means unlimited.
 */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[], width?: number): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)))
  const gap = 2
  if (width !== undefined) {
    let total = widths.reduce((sum, w) => sum + w, 0) + gap * (columns.length - 1)
    while (total > width) {
      let widest = -1
      for (let i = 0; i < columns.length; i++) {
        const column = columns[i]!
        if (!column.shrinkable || widths[i]! <= (column.minWidth ?? Math.max(4, column.header.length))) continue
        if (widest < 0 || widths[i]! > widths[widest]!) widest = i
      }
      if (widest < 0) break
      widths[widest]!--
      total--
    }
  }
  const fitCell = (text: string, w: number, align: 'left' | 'right' | undefined) => {
    const cut = text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text
    return align === 'right' ? cut.padStart(w) : cut.padEnd(w)
  }
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => fitCell(value, widths[i]!, columns[i]!.align))
      .join(' '.repeat(gap))
      .trimEnd()
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')
}

/** RFC 4180 CSV: fields with a comma, quote or newline are quoted, quotes doubled. */
export function csv<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const field = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text)
  return [columns.map((c) => field(c.header)), ...rows.map((row) => columns.map((c) => field(c.value(row))))]
    .map((fields) => fields.join(','))
    .join('\n')
}

export function formatMb(mb: number): string {
  if (mb >= 1024 * 1024) return `${(mb / (1024 * 1024)).toFixed(1)}T`
  if (mb >= 1024) return `${Number.isInteger(mb / 1024) ? mb / 1024 : (mb / 1024).toFixed(1)}G`
  return `${mb}M`
}
