import { describe, expect, it } from 'vitest'
import { isPostgresUrl, redactUrl } from '../../../src/core/journal/index.js'
import { defaultJournalPath } from '../../../src/core/migration/operation.js'

describe('where the journal is', () => {
  it('is $CFCTL_JOURNAL when set, a file or a PostgreSQL URL, else journal.db in $CFCTL_HOME', () => {
    expect(defaultJournalPath({ CFCTL_HOME: '/h' })).toBe('/h/journal.db')
    expect(defaultJournalPath({ CFCTL_HOME: '/h', CFCTL_JOURNAL: ' ' })).toBe('/h/journal.db')
    expect(defaultJournalPath({ CFCTL_HOME: '/h', CFCTL_JOURNAL: 'postgres://db.example/cfctl' })).toBe(
      'postgres://db.example/cfctl',
    )
  })

  it('tells a PostgreSQL URL from a file, and never prints its password', () => {
    expect(isPostgresUrl('postgres://u@h/db')).toBe(true)
    expect(isPostgresUrl('postgresql://u@h/db')).toBe(true)
    expect(isPostgresUrl('/home/me/.cfctl/journal.db')).toBe(false)
    expect(redactUrl('postgres://ops:s3cret@db.example:5432/cfctl')).toBe('postgres://ops:***@db.example:5432/cfctl')
    expect(redactUrl('postgres://ops@db.example/cfctl')).toBe('postgres://ops@db.example/cfctl')
  })
})
