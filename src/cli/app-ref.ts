// The APP argument and the flags that narrow it, shared by the commands that act on one app.
import { Args, Flags } from '@oclif/core'
import type { AppRef } from '../core/apps/inventory.js'
import type { Session } from '../core/auth/session.js'
import { UsageError } from '../core/errors.js'

export const appArgs = {
  app: Args.string({ description: 'app name (in the targeted org/space, or --org/--space)', required: false }),
}

export const appFlags = {
  guid: Flags.string({ description: 'the app guid, instead of its name' }),
  org: Flags.string({ char: 'o', description: 'look the app up in this org' }),
  space: Flags.string({ char: 's', description: 'look the app up in this space' }),
}

export function appRefFrom(
  args: { app?: string },
  flags: { guid?: string; org?: string; space?: string },
  session: Session,
): AppRef {
  if (!args.app && !flags.guid) throw new UsageError('name the app', 'pass APP, or --guid GUID')
  if (args.app && flags.guid) throw new UsageError('pass APP or --guid, not both')
  return {
    name: args.app,
    guid: flags.guid,
    org: flags.org,
    space: flags.space,
    defaultOrgGuid: session.org?.guid,
    defaultSpaceGuid: session.space?.guid,
    defaultOrgName: session.org?.name,
    defaultSpaceName: session.space?.name,
  }
}
