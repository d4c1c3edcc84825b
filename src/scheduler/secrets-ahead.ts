// The seeded users' password hashes, begun as a `cfctl server` process starts. A seed creates eight users, each
// with a scrypt hash of tens of milliseconds; the store hashes them on a worker thread from the moment the
// foundation starts (PreparedSecrets), but with a small seed written in a few milliseconds the users are created
// long before that worker is through, and the server's own thread hashes half of them. Begun before the CLI
// framework and the foundation's modules load, the worker has most of them done by then.
//
// Begun only for a server that will seed the default logins: no data file (an in-memory store is always empty,
// so always seeded), no --admin-user or --developer-user. The foundation takes the hashes only for exactly the
// passwords its seed creates; otherwise it drops them and hashes as before.
import { PreparedSecrets } from './cc/secrets.js'
import { SCRYPT_KEYLEN } from './cc/store.js'

/** The passwords a seed with the default logins creates users with: seedPasswords() (a test holds them equal). */
export const DEFAULT_SEED_PASSWORDS: readonly string[] = [
  'admin',
  'developer',
  'org-manager',
  'org-auditor',
  'billing-manager',
  'org-user',
  'space-manager',
  'space-auditor',
]

/** Flags after which the seed's passwords are not the default ones, or there may be no seed at all. */
const OTHER_LOGINS_OR_DATA = ['--data', '--admin-user', '--developer-user']

let ahead: { passwords: readonly string[]; secrets: PreparedSecrets } | undefined

/**
 * Starts hashing DEFAULT_SEED_PASSWORDS for a `cfctl server` started with these arguments (after the command
 * name), unless a flag there makes other passwords (or no seed) likely. Answers whether it started.
 */
export function startSeedSecrets(args: readonly string[]): boolean {
  if (ahead !== undefined) return false
  if (args.some((arg) => OTHER_LOGINS_OR_DATA.some((flag) => arg === flag || arg.startsWith(`${flag}=`)))) return false
  ahead = { passwords: DEFAULT_SEED_PASSWORDS, secrets: new PreparedSecrets(DEFAULT_SEED_PASSWORDS, SCRYPT_KEYLEN) }
  return true
}

/**
 * The hashes begun by startSeedSecrets, if they are of exactly these passwords (for Store.prepareSecrets), else
 * undefined. Either way they are handed out once: what was begun for other passwords is stopped.
 */
export function takeSeedSecrets(passwords: readonly string[]): PreparedSecrets | undefined {
  const begun = ahead
  ahead = undefined
  if (begun === undefined) return undefined
  if (begun.passwords.length === passwords.length && begun.passwords.every((p, i) => p === passwords[i]))
    return begun.secrets
  begun.secrets.close()
  return undefined
}
