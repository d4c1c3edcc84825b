// Vitest's globalSetup for both suites: every temporary directory of the run (the tests' homes, journals and
// seed files, the foundations' data files, the cfctl and PostgreSQL processes they start) goes under one
// directory made here and removed when the run ends, however a test ended. The workers and everything they
// start inherit TMPDIR, so os.tmpdir() is that directory for all of them.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'cfctl-test-'))
  // Others may pass through (not list it): the test PostgreSQL runs as the `postgres` user when the suite runs
  // as root, in a directory of its own under this one.
  chmodSync(root, 0o711)
  process.env.TMPDIR = root
  return () => rmSync(root, { recursive: true, force: true })
}
