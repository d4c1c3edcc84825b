/** A journal operation that the journal's state does not allow: a bug in the caller, or a user's stale id. */
export class JournalError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JournalError'
  }
}
