// The one place ink and React are loaded from: run.ts imports this only when stdout is a terminal.
import { type RenderOptions, render } from 'ink'
import { Dashboard } from './dashboard.js'
import type { UiState } from './interaction.js'
import type { DashboardStore } from './store.js'
import { ThemeContext } from './theme.js'

export interface RenderDashboardOptions {
  readonly: boolean
  color: boolean
  stdout: NodeJS.WriteStream
  stdin: NodeJS.ReadStream
  /** Frame metrics, for the benchmark. */
  onRender?: RenderOptions['onRender']
  initial?: Partial<UiState>
  /** Draw on the alternate screen, as k9s and less do (default true). */
  alternateScreen?: boolean
}

/** Renders the dashboard until the operator quits. */
export async function renderDashboard(store: DashboardStore, options: RenderDashboardOptions): Promise<void> {
  const instance = render(
    <ThemeContext.Provider value={{ color: options.color }}>
      <Dashboard store={store} readonly={options.readonly} initial={options.initial} />
    </ThemeContext.Provider>,
    {
      stdout: options.stdout,
      stdin: options.stdin,
      // ink throttles its own writes too; the store already publishes no more often than this.
      maxFps: 10,
      // Callers draw only on a terminal; ink would otherwise hold every frame back until exit whenever CI is set.
      interactive: true,
      alternateScreen: options.alternateScreen ?? true,
      onRender: options.onRender,
    },
  )
  await instance.waitUntilExit()
}
