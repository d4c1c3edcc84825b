// The small family of errors a user can act on. Each carries a one-line message and a hint;
// the command layer prints both and exits with the code. Anything else is a bug and keeps its stack.

export class UserError extends Error {
  readonly hint: string | undefined
  readonly exitCode: number

  constructor(message: string, hint?: string, exitCode = 1) {
    super(message)
    this.name = new.target.name
    this.hint = hint
    this.exitCode = exitCode
  }
}

/** The invocation is wrong (a flag, an argument, a missing answer): exit 2. */
export class UsageError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, hint, 2)
  }
}

/** The saved configuration or the target is missing or unusable. */
export class ConfigError extends UserError {}

/** There is no usable token: never logged in, or the session expired with no way to refresh it. */
export class NotLoggedInError extends UserError {
  constructor(message: string, hint = 'run: cfctl login') {
    super(message, hint)
  }
}
