/**
 * The single source of option defaults (see `ExportModuleOptions` for each field).
 * @publicApi
 */
export const DEFAULT_EXPORT_OPTIONS = Object.freeze({
  storagePath: './var/exports',
  encryption: true,
  batchSize: 5000,
  compressionLevel: 6,
  concurrency: 1,
  attempts: 3,
  retryDelay: '5s',
  downloadTtl: '24h',
  cooldown: '24h',
  allowedRoles: Object.freeze(['owner', 'admin']),
  confirmationRequired: false,
  confirmationTtl: '24h',
  baseUrl: 'http://localhost:3000',
  linkTtl: '24h',
  staleAfter: '10m',
  stallTimeout: '1m',
  shutdownTimeout: '10s',
  sweepInterval: '1m',
  progressInterval: '1s',
  enqueueTimeout: '5s',
  instantCooldown: '1m',
  auditRetention: '400d',
  minSecretLength: 32,
} as const);
