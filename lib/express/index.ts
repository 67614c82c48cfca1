/**
 * `nestjs-data-export/express`: the feature for a plain Express app (no Nest in the host).
 * A separate entry point, because it needs `@nestjs/platform-express` and `express`, which a
 * Nest host on Fastify does not install.
 */
export { createExportRouter } from './create-export-router';
export type { ExportRouter, ExportRouterOptions } from './create-export-router';
