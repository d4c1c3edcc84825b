// Text from a server (an error page, a UAA error_description) can quote what it was sent. Before such
// text goes into an error message, tokens and the caller's known secrets are cut out of it.

// A JWT: three base64url parts, the first of which starts with `{"` encoded (eyJ).
const JWT = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g
// `bearer <anything>` up to whitespace or a quote.
const BEARER = /\bbearer\s+[^\s"',;]+/gi

export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text
  for (const secret of secrets) {
    // Very short secrets (an empty client secret, 'a') would shred the text without protecting anything.
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]')
  }
  return out.replace(JWT, '[token]').replace(BEARER, 'bearer [token]')
}

/** At most `max` characters of a body, on one line, for a message. */
export function excerpt(text: string, max = 200): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`
}
