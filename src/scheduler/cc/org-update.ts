// `PUT /v2/organizations/:guid` for what this CC keeps of an org beyond its name: its status. As
// OrganizationAccess decides it: an admin always; an org manager while the org is active, and never
// quota_definition_guid or billing_enabled. A suspended org's apps cannot be changed by its developers
// (AppAccess#create? refuses a suspended org) until an admin makes it active again.
import type { Access } from './access.js'
import { CfError } from './errors.js'
import type { OrgRecord } from './store.js'
import type { Principal } from './uaa.js'

export function updateOrgStatus(access: Access, principal: Principal, org: OrgRecord, text: string): void {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new CfError('MessageParseError', 'invalid request body')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new CfError('MessageParseError', 'invalid request body')
  }
  const fields = body as Record<string, unknown>
  if (!principal.admin) {
    const manager = principal.userGuid !== null && access.roles.hasOrgRole(principal.userGuid, org.guid, 'manager')
    if (!manager || access.roles.isSuspended(org.guid)) throw new CfError('NotAuthorized')
    if ('quota_definition_guid' in fields || 'billing_enabled' in fields) throw new CfError('NotAuthorized')
  }
  if ('name' in fields && fields.name !== org.name) {
    throw new CfError('OrganizationInvalid', 'renaming an organization is not supported by this CC')
  }
  const status = fields.status
  if (status === undefined || status === null) return
  if (typeof status !== 'string') {
    throw new CfError(
      'MessageParseError',
      `Field: status, Error: Expected instance of String, given an instance of ${typeof status}`,
    )
  }
  // Organization#validate: validates_includes ORG_STATUS_VALUES, :status.
  if (status !== 'active' && status !== 'suspended')
    throw new CfError('OrganizationInvalid', 'status is not included in the list')
  access.roles.setStatus(org.guid, status)
}
