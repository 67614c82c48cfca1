/** @internal Resolved (defaults merged, validated, frozen) module options. */
export const EXPORT_RESOLVED_OPTIONS = Symbol('EXPORT_RESOLVED_OPTIONS');
/** @internal The host DataSource the registry reads entity metadata from. */
export const EXPORT_DATA_SOURCE = Symbol('EXPORT_DATA_SOURCE');
/** @internal Route prefix of the built-in endpoints (also used to build links). */
export const EXPORT_ROUTE_PATH = Symbol('EXPORT_ROUTE_PATH');
