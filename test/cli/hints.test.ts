// The one line and hint a user sees for the errors a real CC and UAA send.
import { describe, expect, it } from 'vitest'
import { describeError } from '../../src/cli/base.js'
import { CfApiError, CfAuthError } from '../../src/core/cc/index.js'

const notAuthorized = (method: string) =>
  new CfApiError({
    status: 403,
    code: 10003,
    errorCode: 'CF-NotAuthorized',
    description: 'You are not authorized to perform the requested action',
    method,
    path: '/v2/apps/6064d98a-95e6-400b-bc03-be65e6d59622',
  })

describe('hints', () => {
  it('says of a 403 CF-NotAuthorized read that the app exists but may not be seen, never "not found"', () => {
    const problem = describeError(notAuthorized('GET'))!
    expect(problem.hint).toContain('may not see it')
    expect(problem.hint).not.toMatch(/not found/i)
    expect(problem.cf).toEqual({ status: 403, code: 10003, error_code: 'CF-NotAuthorized' })
  })

  it('says of a 403 CF-NotAuthorized change that the user may see but not change it', () => {
    const problem = describeError(notAuthorized('PUT'))!
    expect(problem.hint).toContain('SpaceDeveloper')
    expect(problem.hint).not.toMatch(/not found/i)
  })

  it("shows an auth error's own hint, so a wrong password is not told to run the login that failed", () => {
    const hint = 'check the user name and password'
    expect(describeError(new CfAuthError('UAA rejected the credentials of user "dev"', { hint }))!.hint).toBe(hint)
    expect(describeError(new CfAuthError('the session has expired'))!.hint).toBe('run: cfctl login')
  })
})
