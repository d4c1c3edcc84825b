// Request/response pairs of a real Cloud Controller (cloud_controller_ng at API 2.54, commit 067f553,
// April 2016), written for cfctl's contract tests from the CC's own sources: the v2 API documentation
// specs (spec/api/documentation/*_api_spec.rb, from which apidocs.cloudfoundry.org was generated), the
// error catalogue (vendor/errors/v2.yml), and the controllers and renderers that shape each answer. Each
// fixture names its source. Values (guids, names, times) are made up; shapes, statuses, codes and texts
// are the CC's.
import type { Fixture } from './fixture.js'

export const ORG_GUID = '1c0e6074-777f-450e-9abc-c42f39d9b75b'
export const SPACE_GUID = '4aa5f6a8-4e80-4b29-a3e5-1b5e1a1e2c3d'
export const APP_GUID = '6064d98a-95e6-400b-bc03-be65e6d59622'
export const DOMAIN_GUID = 'bd4a8a0c-1a2f-44a8-9c8b-2d0a9f3e6b11'
export const ROUTE_GUID = '311d34d1-c045-4853-845f-05132377ad7d'

const CREATED = '2016-04-08T14:38:42Z'

/** An app as AppsController renders it at API 2.54 (apps_api_spec.rb's field list; app.rb's export_attributes). */
export function appEntity(overrides: Record<string, unknown> = {}) {
  return {
    name: 'checkout-worker',
    production: false,
    space_guid: SPACE_GUID,
    stack_guid: '7e03186d-a438-4285-b3b7-c426532e1df2',
    buildpack: null,
    detected_buildpack: 'java-buildpack=v3.6-offline-https://github.com/cloudfoundry/java-buildpack.git#5194155',
    environment_json: {},
    memory: 1024,
    instances: 2,
    disk_quota: 1024,
    state: 'STARTED',
    version: 'df19a7ea-2003-4ecb-a909-e630e43f2719',
    command: null,
    console: false,
    debug: null,
    staging_task_id: '5ebd1b7e-0a7c-4a8c-a3b4-67a7d1c6bc9f',
    package_state: 'STAGED',
    health_check_type: 'port',
    health_check_timeout: null,
    staging_failed_reason: null,
    staging_failed_description: null,
    diego: false,
    docker_image: null,
    package_updated_at: CREATED,
    detected_start_command:
      'CALCULATED_MEMORY=$($PWD/.java-buildpack/open_jdk_jre/bin/java-buildpack-memory-calculator-2.0.1_RELEASE) && JAVA_OPTS="..." && SERVER_PORT=$PORT eval exec $PWD/.java-buildpack/open_jdk_jre/bin/java $JAVA_OPTS -cp $PWD/. org.springframework.boot.loader.JarLauncher',
    enable_ssh: true,
    docker_credentials_json: { redacted_message: '[PRIVATE DATA HIDDEN]' },
    ports: null,
    space_url: `/v2/spaces/${SPACE_GUID}`,
    stack_url: '/v2/stacks/7e03186d-a438-4285-b3b7-c426532e1df2',
    routes_url: `/v2/apps/${APP_GUID}/routes`,
    events_url: `/v2/apps/${APP_GUID}/events`,
    service_bindings_url: `/v2/apps/${APP_GUID}/service_bindings`,
    route_mappings_url: `/v2/apps/${APP_GUID}/route_mappings`,
    ...overrides,
  }
}

export function appResource(guid: string, overrides: Record<string, unknown> = {}, updatedAt: string | null = null) {
  return {
    metadata: { guid, url: `/v2/apps/${guid}`, created_at: CREATED, updated_at: updatedAt },
    entity: appEntity(overrides),
  }
}

const FLEET = [
  appResource('a1f0c4a2-0d1c-4a49-8d8e-0d3f5a6b7c81', { name: 'accounts-api' }),
  appResource(APP_GUID),
  appResource('c3b2a1f0-2e3d-4c5b-9a8f-1e2d3c4b5a93', { name: 'search', diego: true, state: 'STOPPED' }),
]

/** An error body as ErrorHasher renders a v2 error (code and message from vendor/errors/v2.yml). */
export function ccError(code: number, errorCode: string, description: string) {
  return { description, error_code: errorCode, code }
}

const JSON_HEADERS = {
  'content-type': 'application/json;charset=utf-8',
  'x-vcap-request-id': 'c3b1a7b0-98f1-4d5e-bd0d-1f2a3b4c5d6e',
}

export const CC_CORPUS: Fixture[] = [
  {
    id: 'info',
    source: 'info_controller.rb (067f553); values as a 2016 foundation configures them',
    request: { method: 'GET', path: '/v2/info' },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        name: '',
        build: '',
        support: 'https://support.example.com',
        version: 0,
        description: '',
        authorization_endpoint: 'https://login.sys.example.com',
        token_endpoint: 'https://uaa.sys.example.com',
        min_cli_version: null,
        min_recommended_cli_version: null,
        api_version: '2.54.0',
        app_ssh_endpoint: 'ssh.sys.example.com:2222',
        app_ssh_host_key_fingerprint: 'a6:d1:08:0b:b0:cb:9b:5f:c4:ba:44:2a:97:26:19:8a',
        app_ssh_oauth_client: 'ssh-proxy',
        routing_endpoint: 'https://api.sys.example.com/routing',
        logging_endpoint: 'wss://loggregator.sys.example.com:443',
        doppler_logging_endpoint: 'wss://doppler.sys.example.com:443',
      },
    },
  },
  {
    id: 'apps-page-size-refused',
    source:
      'paginated_collection_renderer.rb: a CC configured with renderer.max_results_per_page 2 refuses more (BadQueryParameter 10005, v2.yml)',
    request: { method: 'GET', path: '/v2/apps', query: { 'results-per-page': '100' } },
    response: {
      status: 400,
      headers: JSON_HEADERS,
      body: ccError(10005, 'CF-BadQueryParameter', 'The query parameter is invalid: results_per_page must be <= 2'),
    },
  },
  {
    id: 'apps-page-1',
    source:
      'apps_api_spec.rb (List all Apps) and paginated_collection_renderer.rb (next_url, keys sorted by Addressable)',
    request: { method: 'GET', path: '/v2/apps', query: { 'results-per-page': '2', page: '1' } },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        total_results: 3,
        total_pages: 2,
        prev_url: null,
        next_url: '/v2/apps?order-direction=asc&page=2&results-per-page=2',
        resources: FLEET.slice(0, 2),
      },
    },
  },
  {
    id: 'apps-page-2',
    source: 'apps_api_spec.rb (List all Apps) and paginated_collection_renderer.rb',
    request: { method: 'GET', path: '/v2/apps', query: { 'results-per-page': '2', page: '2' } },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        total_results: 3,
        total_pages: 2,
        prev_url: '/v2/apps?order-direction=asc&page=1&results-per-page=2',
        next_url: null,
        resources: FLEET.slice(2),
      },
    },
  },
  {
    id: 'apps-q-state-refused',
    source:
      'query.rb parse (lib/vcap/rest_api): a key outside apps_controller.rb query_parameters is BadQueryParameter',
    request: { method: 'GET', path: '/v2/apps', query: { q: ['state:STARTED'] }, partial: true },
    response: {
      status: 400,
      headers: JSON_HEADERS,
      body: ccError(10005, 'CF-BadQueryParameter', 'The query parameter is invalid: state'),
    },
  },
  {
    id: 'apps-by-name',
    source: 'apps_api_spec.rb (List all Apps, q=name:...); names match without case (case_insensitive column)',
    request: {
      method: 'GET',
      path: '/v2/apps',
      query: { q: ['name:Checkout-Worker', `space_guid:${SPACE_GUID}`], page: '1' },
      partial: true,
    },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: { total_results: 1, total_pages: 1, prev_url: null, next_url: null, resources: [FLEET[1]] },
    },
  },
  {
    id: 'app',
    source: 'apps_api_spec.rb (Retrieve a Particular App)',
    request: { method: 'GET', path: `/v2/apps/${APP_GUID}` },
    response: { status: 200, headers: JSON_HEADERS, body: FLEET[1] },
  },
  {
    id: 'app-flip',
    source: 'apps_api_spec.rb (Updating an App) and model_controller.rb update: 201 Created with the app',
    request: { method: 'PUT', path: `/v2/apps/${APP_GUID}`, body: { diego: true } },
    response: {
      status: 201,
      headers: JSON_HEADERS,
      body: appResource(APP_GUID, { diego: true }, '2016-04-08T14:40:01Z'),
    },
  },
  {
    id: 'app-flip-refused',
    source: 'v2.yml 320005 BackendSelectionNotAuthorized: a developer while users_can_select_backend is false',
    request: { method: 'PUT', path: '/v2/apps/d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70', body: { diego: true } },
    response: {
      status: 403,
      headers: JSON_HEADERS,
      body: ccError(
        320005,
        'CF-BackendSelectionNotAuthorized',
        'You cannot select the backend on which to run this application',
      ),
    },
  },
  {
    id: 'app-not-found',
    source: 'v2.yml 100004 AppNotFound ("The app could not be found: %s", the guid)',
    request: { method: 'GET', path: '/v2/apps/00000000-0000-4000-8000-000000000000' },
    response: {
      status: 404,
      headers: JSON_HEADERS,
      body: ccError(100004, 'CF-AppNotFound', 'The app could not be found: 00000000-0000-4000-8000-000000000000'),
    },
  },
  {
    id: 'app-not-visible',
    source: "v2.yml 10003 NotAuthorized: find_guid_and_validate_access(:read) on an app outside the user's spaces",
    request: { method: 'GET', path: '/v2/apps/e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b' },
    response: {
      status: 403,
      headers: JSON_HEADERS,
      body: ccError(10003, 'CF-NotAuthorized', 'You are not authorized to perform the requested action'),
    },
  },
  {
    id: 'instances-diego',
    source: 'apps_api_spec.rb (Get the instance information for a STARTED App): Diego reporter, with uptime',
    request: { method: 'GET', path: `/v2/apps/${APP_GUID}/instances` },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        '0': { state: 'RUNNING', since: 1403140717.984577, uptime: 2405 },
        '1': { state: 'STARTING', since: 3625363939.984577, uptime: 1394 },
        '2': { state: 'CRASHED', since: 2514251828.984577, uptime: 283 },
        '3': { state: 'DOWN', uptime: 9172 },
      },
    },
  },
]

/** The instances of one app in each state a real CC reports, keyed by app guid. */
export const INSTANCE_APPS = {
  running: '11111111-aaaa-4bbb-8ccc-000000000001',
  deaRunning: '11111111-aaaa-4bbb-8ccc-000000000002',
  crashed: '11111111-aaaa-4bbb-8ccc-000000000003',
  flapping: '11111111-aaaa-4bbb-8ccc-000000000004',
  stopped: '11111111-aaaa-4bbb-8ccc-000000000005',
  placementFailed: '11111111-aaaa-4bbb-8ccc-000000000006',
} as const

CC_CORPUS.push(
  {
    id: 'instances-running',
    source: 'diego/instances_reporter.rb all_instances_for_app: state, uptime, since per desired index',
    request: { method: 'GET', path: `/v2/apps/${INSTANCE_APPS.running}/instances` },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        '0': { state: 'RUNNING', uptime: 2405, since: 1460126322 },
        '1': { state: 'RUNNING', uptime: 2399, since: 1460126328 },
      },
    },
  },
  {
    id: 'instances-dea-running',
    source:
      'apps_api_spec.rb explanation and dea/client.rb find_all_instances: the DEA shape, debug and console fields',
    request: { method: 'GET', path: `/v2/apps/${INSTANCE_APPS.deaRunning}/instances` },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        '0': {
          state: 'RUNNING',
          since: 1403140717.984577,
          debug_ip: null,
          debug_port: null,
          console_ip: null,
          console_port: null,
        },
        '1': {
          state: 'STARTING',
          since: 1403140719.184577,
          debug_ip: null,
          debug_port: null,
          console_ip: null,
          console_port: null,
        },
      },
    },
  },
  {
    id: 'instances-crashed',
    source: 'diego/instances_reporter.rb: CRASHED instances as the TPS reports them',
    request: { method: 'GET', path: `/v2/apps/${INSTANCE_APPS.crashed}/instances` },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        '0': { state: 'CRASHED', uptime: 0, since: 1460126322 },
        '1': { state: 'RUNNING', uptime: 512, since: 1460125810 },
      },
    },
  },
  {
    id: 'instances-flapping',
    source:
      'dea/client.rb find_all_instances: FLAPPING from the health manager, DOWN (with since) for what no DEA reports',
    request: { method: 'GET', path: `/v2/apps/${INSTANCE_APPS.flapping}/instances` },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: { '0': { state: 'FLAPPING', since: 1460126000 }, '1': { state: 'DOWN', since: 1460126322 } },
    },
  },
  {
    id: 'instances-placement-failed',
    source:
      'diego/instances_reporter.rb: details from the TPS for an instance the auction could not place; DOWN filled in',
    request: { method: 'GET', path: `/v2/apps/${INSTANCE_APPS.placementFailed}/instances` },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        '0': { state: 'STARTING', uptime: 0, since: 1460126322, details: 'insufficient resources: memory' },
        '1': { state: 'DOWN', uptime: 0 },
      },
    },
  },
  {
    id: 'instances-stopped',
    source: 'instances_controller.rb: a stopped app is InstancesError 220001 ("Instances error: %s")',
    request: { method: 'GET', path: `/v2/apps/${INSTANCE_APPS.stopped}/instances` },
    response: {
      status: 400,
      headers: JSON_HEADERS,
      body: ccError(
        220001,
        'CF-InstancesError',
        'Instances error: Request failed for app: nightly-report as the app is in stopped state.',
      ),
    },
  },
)

/**
 * instances_controller.rb: a FAILED app answers its staging_failed_reason (details 'cannot get instances
 * since staging failed'), a PENDING one NotStaged, before any stopped check. Code, status, message: v2.yml.
 */
export const STAGING_CASES = [
  {
    errorCode: 'CF-StagingError',
    code: 170001,
    status: 400,
    description: 'Staging error: cannot get instances since staging failed',
  },
  { errorCode: 'CF-NotStaged', code: 170002, status: 400, description: 'App has not finished staging' },
  {
    errorCode: 'CF-NoAppDetectedError',
    code: 170003,
    status: 400,
    description: 'An app was not successfully detected by any available buildpack',
  },
  {
    errorCode: 'CF-BuildpackCompileFailed',
    code: 170004,
    status: 400,
    description: 'App staging failed in the buildpack compile phase',
  },
  {
    errorCode: 'CF-BuildpackReleaseFailed',
    code: 170005,
    status: 400,
    description: 'App staging failed in the buildpack release phase',
  },
  {
    errorCode: 'CF-StagingTimeExpired',
    code: 170007,
    status: 504,
    description: 'Staging time expired: cannot get instances since staging failed',
  },
  { errorCode: 'CF-InsufficientResources', code: 170008, status: 400, description: 'Insufficient resources' },
  { errorCode: 'CF-NoCompatibleCell', code: 170009, status: 400, description: 'Found no compatible cell' },
] as const

export function stagingGuid(errorCode: string): string {
  const n = STAGING_CASES.findIndex((c) => c.errorCode === errorCode) + 1
  return `22222222-bbbb-4ccc-8ddd-${String(n).padStart(12, '0')}`
}

for (const c of STAGING_CASES) {
  const reason = c.errorCode.slice(3)
  CC_CORPUS.push(
    {
      id: `instances-${c.errorCode}`,
      source: `instances_controller.rb and v2.yml ${c.code} ${reason} (HTTP ${c.status})`,
      request: { method: 'GET', path: `/v2/apps/${stagingGuid(c.errorCode)}/instances` },
      response: { status: c.status, headers: JSON_HEADERS, body: ccError(c.code, c.errorCode, c.description) },
    },
    {
      id: `app-${c.errorCode}`,
      source: `app.rb mark_as_failed_to_stage / mark_for_restaging: package_state and staging_failed_reason of an app in ${reason}`,
      request: { method: 'GET', path: `/v2/apps/${stagingGuid(c.errorCode)}` },
      response: {
        status: 200,
        headers: JSON_HEADERS,
        body: appResource(
          stagingGuid(c.errorCode),
          c.errorCode === 'CF-NotStaged'
            ? { name: 'never-staged', package_state: 'PENDING', staging_task_id: null }
            : {
                name: `failed-${reason}`,
                package_state: 'FAILED',
                staging_failed_reason: reason,
                // mark_as_failed_to_stage: the error's message with 'staging failed' for its %s
                staging_failed_description: c.description.replace(
                  'cannot get instances since staging failed',
                  'staging failed',
                ),
              },
        ),
      },
    },
  )
}

CC_CORPUS.push(
  {
    id: 'app-routes',
    source: 'apps_api_spec.rb (List all Routes for the App) with inline-relations-depth=1: the domain inlined',
    request: {
      method: 'GET',
      path: `/v2/apps/${APP_GUID}/routes`,
      query: { 'inline-relations-depth': '1' },
      partial: true,
    },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        total_results: 1,
        total_pages: 1,
        prev_url: null,
        next_url: null,
        resources: [
          {
            metadata: { guid: ROUTE_GUID, url: `/v2/routes/${ROUTE_GUID}`, created_at: CREATED, updated_at: null },
            entity: {
              host: 'checkout',
              path: '',
              domain_guid: DOMAIN_GUID,
              space_guid: SPACE_GUID,
              service_instance_guid: null,
              port: 0,
              domain_url: `/v2/shared_domains/${DOMAIN_GUID}`,
              domain: {
                metadata: {
                  guid: DOMAIN_GUID,
                  url: `/v2/shared_domains/${DOMAIN_GUID}`,
                  created_at: CREATED,
                  updated_at: null,
                },
                entity: { name: 'apps.example.com', router_group_guid: null },
              },
              space_url: `/v2/spaces/${SPACE_GUID}`,
              apps_url: `/v2/routes/${ROUTE_GUID}/apps`,
              route_mappings_url: `/v2/routes/${ROUTE_GUID}/route_mappings`,
            },
          },
        ],
      },
    },
  },
  {
    id: 'organizations',
    source: 'organizations_api_spec.rb (List all Organizations)',
    request: { method: 'GET', path: '/v2/organizations' },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        total_results: 1,
        total_pages: 1,
        prev_url: null,
        next_url: null,
        resources: [
          {
            metadata: { guid: ORG_GUID, url: `/v2/organizations/${ORG_GUID}`, created_at: CREATED, updated_at: null },
            entity: {
              name: 'acme-retail',
              billing_enabled: false,
              quota_definition_guid: 'dcb6a5b9-0f5a-4b5e-9f8a-6d3f7e2a1b0c',
              status: 'active',
              quota_definition_url: '/v2/quota_definitions/dcb6a5b9-0f5a-4b5e-9f8a-6d3f7e2a1b0c',
              spaces_url: `/v2/organizations/${ORG_GUID}/spaces`,
              domains_url: `/v2/organizations/${ORG_GUID}/domains`,
              private_domains_url: `/v2/organizations/${ORG_GUID}/private_domains`,
              users_url: `/v2/organizations/${ORG_GUID}/users`,
              managers_url: `/v2/organizations/${ORG_GUID}/managers`,
              billing_managers_url: `/v2/organizations/${ORG_GUID}/billing_managers`,
              auditors_url: `/v2/organizations/${ORG_GUID}/auditors`,
              app_events_url: `/v2/organizations/${ORG_GUID}/app_events`,
              space_quota_definitions_url: `/v2/organizations/${ORG_GUID}/space_quota_definitions`,
            },
          },
        ],
      },
    },
  },
  {
    id: 'spaces',
    source: 'spaces_api_spec.rb (List all Spaces)',
    request: { method: 'GET', path: '/v2/spaces' },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        total_results: 1,
        total_pages: 1,
        prev_url: null,
        next_url: null,
        resources: [
          {
            metadata: { guid: SPACE_GUID, url: `/v2/spaces/${SPACE_GUID}`, created_at: CREATED, updated_at: null },
            entity: {
              name: 'prod',
              organization_guid: ORG_GUID,
              space_quota_definition_guid: null,
              allow_ssh: true,
              organization_url: `/v2/organizations/${ORG_GUID}`,
              developers_url: `/v2/spaces/${SPACE_GUID}/developers`,
              managers_url: `/v2/spaces/${SPACE_GUID}/managers`,
              auditors_url: `/v2/spaces/${SPACE_GUID}/auditors`,
              apps_url: `/v2/spaces/${SPACE_GUID}/apps`,
              routes_url: `/v2/spaces/${SPACE_GUID}/routes`,
              domains_url: `/v2/spaces/${SPACE_GUID}/domains`,
              service_instances_url: `/v2/spaces/${SPACE_GUID}/service_instances`,
              app_events_url: `/v2/spaces/${SPACE_GUID}/app_events`,
              events_url: `/v2/spaces/${SPACE_GUID}/events`,
              security_groups_url: `/v2/spaces/${SPACE_GUID}/security_groups`,
            },
          },
        ],
      },
    },
  },
  {
    id: 'feature-flags',
    source: 'feature_flags_api_spec.rb (Get all feature flags) and feature_flag.rb DEFAULT_FLAGS',
    request: { method: 'GET', path: '/v2/config/feature_flags' },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: [
        {
          name: 'user_org_creation',
          enabled: false,
          error_message: null,
          url: '/v2/config/feature_flags/user_org_creation',
        },
        {
          name: 'private_domain_creation',
          enabled: true,
          error_message: null,
          url: '/v2/config/feature_flags/private_domain_creation',
        },
        {
          name: 'app_bits_upload',
          enabled: true,
          error_message: null,
          url: '/v2/config/feature_flags/app_bits_upload',
        },
        { name: 'diego_docker', enabled: false, error_message: null, url: '/v2/config/feature_flags/diego_docker' },
      ],
    },
  },
  {
    id: 'events-diego-flips',
    source:
      'events_api_spec.rb (List all Events), event.rb export_attributes, app_event_repository.rb record_app_update (metadata.request)',
    request: { method: 'GET', path: '/v2/events', query: { q: ['type:audit.app.update'] }, partial: true },
    response: {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        total_results: 2,
        total_pages: 1,
        prev_url: null,
        next_url: null,
        resources: [
          {
            metadata: {
              guid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
              url: '/v2/events/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
              created_at: '2016-04-08T14:40:01Z',
              updated_at: null,
            },
            entity: {
              type: 'audit.app.update',
              actor: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d',
              actor_type: 'user',
              actor_name: 'admin',
              actee: APP_GUID,
              actee_type: 'app',
              actee_name: 'checkout-worker',
              timestamp: '2016-04-08T14:40:01Z',
              metadata: { request: { diego: true } },
              space_guid: SPACE_GUID,
              organization_guid: ORG_GUID,
            },
          },
          {
            metadata: {
              guid: '8b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e',
              url: '/v2/events/8b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e',
              created_at: '2016-04-08T15:02:11Z',
              updated_at: null,
            },
            entity: {
              type: 'audit.app.update',
              actor: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
              actor_type: 'user',
              actor_name: 'dev@acme.example',
              actee: APP_GUID,
              actee_type: 'app',
              actee_name: 'checkout-worker',
              timestamp: '2016-04-08T15:02:11Z',
              metadata: { request: { instances: 3, environment_json: 'PRIVATE DATA HIDDEN' } },
              space_guid: SPACE_GUID,
              organization_guid: ORG_GUID,
            },
          },
        ],
      },
    },
  },
)

CC_CORPUS.push({
  id: 'unknown-route',
  source:
    "lib/sinatra/vcap.rb not_found: any path the CC does not serve (here the embedded foundation's capacity extension) is NotFound 10000 'Unknown request' (v2.yml)",
  request: { method: 'GET', path: '/v2/x-cfctl/backends' },
  response: { status: 404, headers: JSON_HEADERS, body: ccError(10000, 'CF-NotFound', 'Unknown request') },
})

/** The token the tests' client starts with; the corpus answers it as expired. */
export const STALE_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJzdGFsZSJ9.c2lnbmF0dXJl'

/** Answers about the token itself, which come before any other (so they head the corpus). */
CC_CORPUS.unshift(
  {
    id: 'token-expired',
    source:
      'v2.yml 1000 InvalidAuthToken (401): an expired or unverifiable token; the cf CLI refreshes and tries again',
    request: { method: 'GET', path: `/v2/apps/${APP_GUID}`, bearer: STALE_TOKEN },
    response: { status: 401, headers: JSON_HEADERS, body: ccError(1000, 'CF-InvalidAuthToken', 'Invalid Auth Token') },
  },
  {
    id: 'token-missing',
    source: 'v2.yml 10002 NotAuthenticated (401): a request without a token (base_controller.rb check_authentication)',
    request: { method: 'GET', path: '/v2/organizations', bearer: '' },
    response: {
      status: 401,
      headers: JSON_HEADERS,
      body: ccError(10002, 'CF-NotAuthenticated', 'Authentication error'),
    },
  },
)
