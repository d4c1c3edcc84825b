// A throwaway PostgreSQL server for the tests of the shared journal (and the benches): initdb into a temporary
// directory, then postgres on a free loopback port, as the `postgres` user when this runs as root (PostgreSQL
// refuses to run as root). Nothing here skips: without PostgreSQL installed, startPostgres() throws and
// says how to install it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

export interface TestPostgres {
  /** postgres://cfctl@127.0.0.1:PORT/postgres */
  readonly url: string
  readonly port: number
  /** Stops the server (fast shutdown: connections are cut), keeping its data. */
  stop(): Promise<void>
  /** Starts it again on the same port and data. */
  start(): Promise<void>
  /** Stops it and removes its directory. */
  destroy(): Promise<void>
}

/** The directory of initdb and postgres: $CFCTL_PG_BINDIR, pg_config --bindir, or Debian's newest. */
export function postgresBinDir(): string {
  const fromEnv = process.env.CFCTL_PG_BINDIR
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    if (existsSync(join(dir, 'initdb'))) return dir
  } catch {
    // No pg_config on PATH: look where Debian puts the server.
  }
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(debian, versions[0], 'bin')
  }
  throw new Error(
    'PostgreSQL is not installed: the tests of the PostgreSQL journal start a throwaway server with its initdb and ' +
      'postgres. Install it (Debian: apt-get install -y postgresql, as .ci/run does when it is missing) or set ' +
      'CFCTL_PG_BINDIR to the directory that holds initdb.',
  )
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** PostgreSQL refuses to run as root: then the server runs as the `postgres` user (Debian's package makes it). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    return { uid, gid }
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run the test PostgreSQL server as')
  }
}

export async function startPostgres(options: { fsync?: boolean } = {}): Promise<TestPostgres> {
  const bin = postgresBinDir()
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-pg-'))
  const data = join(dir, 'data')
  const user = serverUser()
  if (user) chownSync(dir, user.uid, user.gid)
  const initArgs = ['-D', data, '-U', 'cfctl', '--auth=trust', '-E', 'UTF8', '--no-sync']
  execFileSync(join(bin, 'initdb'), initArgs, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...user })
  const port = await freePort()
  const url = `postgres://cfctl@127.0.0.1:${port}/postgres`
  let child: ChildProcess | undefined
  const kill = () => child?.kill('SIGQUIT')
  process.on('exit', kill)

  const start = async () => {
    const args = [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `fsync=${options.fsync ? 'on' : 'off'}`,
      '-c',
      'max_connections=200',
    ]
    const started = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...user })
    let log = ''
    started.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4_000)
    })
    child = started
    const deadline = Date.now() + 20_000
    for (;;) {
      if (started.exitCode !== null) throw new Error(`postgres exited (${started.exitCode}) on start:\n${log}`)
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 })
      try {
        await client.connect()
        await client.query('SELECT 1')
        await client.end()
        return
      } catch {
        await client.end().catch(() => {})
        if (Date.now() > deadline) throw new Error(`postgres did not answer on port ${port} within 20 s:\n${log}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }

  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    // SIGINT: PostgreSQL's fast shutdown (cuts the connections, no waiting for clients).
    running.kill('SIGINT')
    await exited
  }

  await start()
  return {
    url,
    port,
    stop,
    start,
    destroy: async () => {
      await stop()
      process.off('exit', kill)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let schemas = 0

/**
 * A schema of its own on the server, as a URL whose connections use it (search_path): each test gets an
 * empty journal without the cost of a database.
 */
export async function freshSchema(server: TestPostgres): Promise<string> {
  const name = `t_${process.pid}_${++schemas}`
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA ${name}`)
  } finally {
    await client.end()
  }
  return `${server.url}?options=${encodeURIComponent(`-c search_path=${name}`)}`
}

/** Runs SQL on the server (in the schema of `url`), for a test that looks behind the journal's back. */
export async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(text)
  } finally {
    await client.end()
  }
}
