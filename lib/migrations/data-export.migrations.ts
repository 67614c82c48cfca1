import { CreateDataExports1764000000000 } from './1764000000000-create-data-exports';
import { AddExportDownloadsAndDeletion1766000000000 } from './1766000000000-add-export-downloads-and-deletion';
import { AddPersonalExports1768000000000 } from './1768000000000-add-personal-exports';
import { AddExportEvents1770000000000 } from './1770000000000-add-export-events';

/**
 * Migrations to add to the host DataSource's `migrations`, oldest first.
 *
 * @example
 * new DataSource({ ..., migrations: [...DATA_EXPORT_MIGRATIONS, ...yours] })
 * @publicApi
 */
export const DATA_EXPORT_MIGRATIONS = [CreateDataExports1764000000000, AddExportDownloadsAndDeletion1766000000000, AddPersonalExports1768000000000, AddExportEvents1770000000000];
