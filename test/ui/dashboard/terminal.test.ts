// The dashboard in a real terminal: `cfctl migrate --embedded --ui` runs under tmux (a pseudo-terminal of
// 120x40, as an operator's), send-keys pauses and resumes the migration, and capture-pane shows the
// migration panel change. Where tmux is not installed, util-linux's `script` gives the same pseudo-terminal
// and the keys go to its input; the screen is then read from the terminal's output stream.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

interface Terminal {
  keys(text: string): void
  /** What the terminal shows now (tmux), or everything it was sent (script), without escape codes. */
  screen(): string
  close(): void
}

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`

function tmuxTerminal(command: string[]): Terminal {
  const socket = `cfctl-test-${process.pid}-${Date.now()}`
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
  // The pane stays once cfctl exits, so that its last words can be read.
  tmux(
    'new-session',
    '-d',
    '-x',
    '120',
    '-y',
    '40',
    '-s',
    'cfctl',
    command.map(quote).join(' '),
    ';',
    'set-option',
    '-t',
    'cfctl',
    'remain-on-exit',
    'on',
  )
  return {
    keys: (text) => void tmux('send-keys', '-t', 'cfctl', '-l', text),
    screen: () => tmux('capture-pane', '-p', '-t', 'cfctl'),
    close: () => {
      try {
        tmux('kill-server')
      } catch {
        // Already gone.
      }
    },
  }
}

function scriptTerminal(command: string[]): Terminal {
  const child: ChildProcess = spawn(
    'script',
    ['-q', '-f', '-e', '-c', `stty cols 120 rows 40; exec ${command.map(quote).join(' ')}`, '/dev/null'],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  )
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  return {
    keys: (text) => void child.stdin!.write(text),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping the terminal's escape codes
    screen: () => out.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][0-9A-B]|\u001b[=>78]/g, ''),
    close: () => child.kill('SIGKILL'),
  }
}

async function until(terminal: Terminal, pattern: RegExp, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms
  for (;;) {
    const screen = terminal.screen()
    if (pattern.test(screen)) return screen
    if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${screen}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

let terminal: Terminal | undefined
afterEach(() => {
  terminal?.close()
  terminal = undefined
})

describe('cfctl migrate --ui in a real terminal', () => {
  it('pauses with p and resumes with r, and the migration panel says so', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cfctl-terminal-'))
    const command = [
      'env',
      `HOME=${home}`,
      `CFCTL_HOME=${join(home, '.cfctl')}`,
      'NO_COLOR=1',
      'TERM=xterm-256color',
      process.execPath,
      '--import',
      'tsx',
      join(root, 'bin', 'dev.js'),
      'migrate',
      '--embedded',
      '--to',
      'diego',
      '--rate',
      '20/min',
      '--max-in-flight',
      '1',
      '--yes',
      '--ui',
    ]
    // CFCTL_TERMINAL=script tries the fallback on a machine that has tmux.
    const tmux = process.env.CFCTL_TERMINAL !== 'script' && has('tmux')
    terminal = tmux ? tmuxTerminal(command) : scriptTerminal(command)
    const migration = /Migration \d{8}-\d{6}-[0-9a-f]{4} → diego/

    let screen = await until(terminal, /running · rate 20\/min · max in flight 1/, 60_000)
    expect(screen).toMatch(migration)

    terminal.keys('p')
    screen = await until(terminal, /paused by operator:\S+ · rate 20\/min/)
    if (tmux) expect(screen).not.toMatch(/running · rate 20\/min/) // the panel now, not the stream so far

    terminal.keys('r')
    if (tmux) await until(terminal, /running · rate 20\/min · max in flight 1/)
    else {
      const pausedAt = terminal.screen().lastIndexOf('paused by operator')
      const deadline = Date.now() + 20_000
      while (terminal.screen().lastIndexOf('running · rate 20/min') < pausedAt) {
        if (Date.now() > deadline) throw new Error('the migration never showed running again after r')
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }

    // The run goes on in this process: q asks first, as a dashboard that took a run over does.
    terminal.keys('q')
    await until(terminal, /runs in this dashboard\. Quit and pause it/)
    terminal.keys('y')
    await until(terminal, /Migration \d{8}-\d{6}-[0-9a-f]{4}: paused \(by dashboard-quit\)/)
  }, 120_000)
})
