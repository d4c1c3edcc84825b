// The bounds this CC puts on an app's size. Real CC takes them from org and space quotas; the
// embedded foundation has one quota for everybody, so the API and the seed-file loader share these.

export interface AppLimits {
  /** Most instances one app may ask for (CC: the quota's app_instance_limit). */
  maxInstances: number
  /** Most memory one instance may ask for, in MB (CC: the quota's instance_memory_limit). */
  maxMemoryMb: number
  /** Most disk one instance may ask for, in MB (CC: maximum_app_disk_in_mb). */
  maxDiskMb: number
}

export const DEFAULT_APP_LIMITS: Readonly<AppLimits> = Object.freeze({
  maxInstances: 500,
  maxMemoryMb: 32_768,
  maxDiskMb: 16_384,
})

/** CC's defaults for a new app that does not say: default_app_memory and default_app_disk_in_mb. */
export const DEFAULT_APP_MEMORY_MB = 1024
export const DEFAULT_APP_DISK_MB = 1024
