// The four ways a call to the Cloud Controller (or UAA) can fail that a user can act on. Each message
// names the request (method and path, never a header or a body, so no token or password can leak) and
// what went wrong; the command layer adds the hint.

/** The CC answered with an error: its HTTP status and its v2 body `{code, description, error_code}`. */
export class CfApiError extends Error {
  readonly status: number
  /** CC's numeric code, e.g. 100004; 0 when the body was not a CC error. */
  readonly code: number
  /** CC's error name, e.g. 'CF-AppNotFound'; 'UnknownError' when the body was not a CC error. */
  readonly errorCode: string
  readonly description: string
  readonly method: string
  readonly path: string

  constructor(fields: {
    status: number
    code: number
    errorCode: string
    description: string
    method: string
    path: string
  }) {
    super(
      `${fields.errorCode} (code ${fields.code}): ${fields.description} [${fields.method} ${fields.path} → ${fields.status}]`,
    )
    this.name = 'CfApiError'
    this.status = fields.status
    this.code = fields.code
    this.errorCode = fields.errorCode
    this.description = fields.description
    this.method = fields.method
    this.path = fields.path
  }
}

/** The request never got an answer: refused, reset, timed out, TLS failed, or the name did not resolve. */
export class CfNetworkError extends Error {
  readonly method: string
  /** Origin and path, e.g. https://api.example.com/v2/apps. */
  readonly url: string
  /** The transport's error code, e.g. ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT. */
  readonly reason: string
  /** How many times the request was tried before giving up. */
  readonly attempts: number

  constructor(fields: {
    method: string
    url: string
    reason: string
    detail: string
    attempts: number
    cause?: unknown
  }) {
    const tries = fields.attempts === 1 ? '1 attempt' : `${fields.attempts} attempts`
    super(`${fields.method} ${fields.url} failed after ${tries}: ${fields.detail}`, { cause: fields.cause })
    this.name = 'CfNetworkError'
    this.method = fields.method
    this.url = fields.url
    this.reason = fields.reason
    this.attempts = fields.attempts
  }
}

/** A response that is not the shape the CC v2 API documents: which request, which field, what was expected. */
export class CfSchemaError extends Error {
  readonly method: string
  readonly path: string
  /** The first offending field, e.g. 'resources[3].entity.diego'; '' for the body as a whole. */
  readonly field: string
  /** What was expected there and what came instead. */
  readonly expected: string

  constructor(fields: { method: string; path: string; field: string; expected: string; more?: number }) {
    const where = fields.field === '' ? 'the body' : fields.field
    const more = fields.more ? ` (and ${fields.more} more problem${fields.more === 1 ? '' : 's'})` : ''
    super(`${fields.method} ${fields.path} answered an unexpected shape at ${where}: ${fields.expected}${more}`)
    this.name = 'CfSchemaError'
    this.method = fields.method
    this.path = fields.path
    this.field = fields.field
    this.expected = fields.expected
  }
}

/** No usable token: the CC or UAA rejected it (or the credentials) and there is no way to refresh. */
export class CfAuthError extends Error {
  readonly hint: string
  /** The HTTP status that said so, when there was one. */
  readonly status: number | undefined
  /** The CC's error name (CF-InvalidAuthToken, CF-NotAuthenticated) or UAA's error (invalid_token, unauthorized). */
  readonly errorCode: string | undefined

  constructor(message: string, fields: { hint?: string; status?: number; errorCode?: string; cause?: unknown } = {}) {
    super(message, { cause: fields.cause })
    this.name = 'CfAuthError'
    this.hint = fields.hint ?? 'run: cfctl login'
    this.status = fields.status
    this.errorCode = fields.errorCode
  }
}

/**
 * What a user can do about a CC error. A real CC answers 403 CF-NotAuthorized (10003) both for an object
 * that exists but is outside the user's orgs and spaces (a read) and for one the user may see but not
 * change (a write): never "not found", which is what 404 says.
 */
export function cfErrorHint(error: CfApiError): string | undefined {
  switch (error.errorCode) {
    case 'CF-BackendSelectionNotAuthorized':
      return "users_can_select_backend is off on this foundation: ask an admin to flip the app's backend"
    case 'CF-NotAuthorized':
      return error.method === 'GET'
        ? 'it exists, but your user may not see it: ask for a role in its space or org (SpaceDeveloper, SpaceAuditor, OrgManager), or log in as an admin'
        : 'your user may see it but not change it: this needs SpaceDeveloper in its space, or an admin (cloud_controller.admin)'
    case 'CF-InvalidAuthToken':
      return 'run: cfctl login'
    case 'CF-AppNotFound':
      return 'check the app guid, or name the app instead'
    case 'CF-BadQueryParameter':
      return 'the Cloud Controller refused a query cfctl sent; please report it with the command you ran'
    default:
      return undefined
  }
}
