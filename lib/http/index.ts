/**
 * `nestjs-data-export/http`: the built-in endpoints as a class to extend. A separate entry point,
 * because the endpoints need `class-validator` and `class-transformer`, which a host without
 * them (`http: false`) does not install.
 */
export { ExportController } from './export.controller';
export type { ExportRoute } from './export.controller';
