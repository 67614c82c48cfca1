/**
 * `nestjs-data-export/s3`: archives in an S3 bucket. A separate entry point, because it needs
 * `@aws-sdk/client-s3` and `@aws-sdk/lib-storage`, which a host that keeps archives elsewhere
 * does not install.
 */
export { S3ExportStorage, S3StorageError } from './s3-export.storage';
export type { S3ExportStorageOptions } from './s3-export.storage';
