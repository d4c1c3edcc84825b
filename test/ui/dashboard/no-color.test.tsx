// NO_COLOR: the panels get no colour and no emphasis. ink's colour library is made to emit colour here
// (FORCE_COLOR before it loads), so the test sees the difference the theme makes.
import { beforeAll, describe, expect, it } from 'vitest'

process.env.FORCE_COLOR = '1'

type Modules = {
  render: typeof import('ink-testing-library').render
  AppTable: typeof import('../../../src/ui/dashboard/panels/app-table.js').AppTable
  ThemeContext: typeof import('../../../src/ui/dashboard/theme.js').ThemeContext
  fleetOf: typeof import('../../../src/ui/dashboard/fleet.js').fleetOf
  colorEnabled: typeof import('../../../src/ui/text.js').colorEnabled
}
let m: Modules

beforeAll(async () => {
  const [itl, table, theme, fleet, text] = await Promise.all([
    import('ink-testing-library'),
    import('../../../src/ui/dashboard/panels/app-table.js'),
    import('../../../src/ui/dashboard/theme.js'),
    import('../../../src/ui/dashboard/fleet.js'),
    import('../../../src/ui/text.js'),
  ])
  m = {
    render: itl.render,
    AppTable: table.AppTable,
    ThemeContext: theme.ThemeContext,
    fleetOf: fleet.fleetOf,
    colorEnabled: text.colorEnabled,
  }
})

function frame(color: boolean): string {
  const { render, AppTable, ThemeContext, fleetOf } = m
  const fleet = fleetOf(
    ['auth-api', 'cart-worker'].map((name) => ({
      guid: `guid-${name}`,
      name,
      org: 'acme',
      space: 'prod',
      state: 'STARTED' as const,
      instances: 1,
      memoryMb: 256,
      diskMb: 512,
      backend: 'dea' as const,
    })),
  )
  const steps = new Map([['guid-cart-worker', { state: 'failed' as const, error: 'not healthy' }]])
  return render(
    <ThemeContext.Provider value={{ color }}>
      <AppTable
        fleet={fleet}
        view={[0, 1]}
        steps={steps}
        scroll={{ cursor: 0, offset: 0 }}
        height={6}
        width={80}
        sort={{ key: 'name', descending: false }}
        filter=""
        loading={false}
      />
    </ThemeContext.Provider>,
  ).lastFrame()!
}

describe('colour', () => {
  it('paints failing apps red, and the selected row inverted, when colour is on', () => {
    const lines = frame(true).split('\n')
    expect(lines.find((l) => l.includes('cart-worker'))).toContain('\u001b[31m')
    expect(lines.find((l) => l.includes('auth-api'))).toContain('\u001b[7m')
  })

  it('leaves every escape out when colour is off', () => {
    expect(frame(false)).not.toContain('\u001b[')
  })

  it('is off under NO_COLOR, even on a terminal', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream
    expect(m.colorEnabled(tty, { NO_COLOR: '1' })).toBe(false)
    expect(m.colorEnabled(tty, {})).toBe(true)
  })
})
