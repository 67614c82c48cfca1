import type { Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DATA_EXPORT_ENTITIES, ExportModule, ExportModuleOptions, LocalDiskStorage } from 'nestjs-data-export';
import { dataSourceOptions, REDIS_URL } from './databases';
import { TEST_SECRET } from './test-app';

/**
 * Boots an API-only host on SQLite with `entities`, `providers` and the export options given;
 * resolves with `'booted'`, or with the message the boot failed with.
 */
export async function bootMessage(entities: Function[], exportOptions: Partial<ExportModuleOptions> = {}, providers: Provider[] = []): Promise<string> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(dataSourceOptions('sqlite', [...entities, ...DATA_EXPORT_ENTITIES])),
      ExportModule.forRoot({
        secret: TEST_SECRET,
        storage: new LocalDiskStorage('/tmp/data-export-unused-boot'),
        worker: false,
        http: false,
        redis: REDIS_URL,
        ...exportOptions,
      }),
    ],
    providers,
  })
    .compile()
    .catch((err: Error) => err);
  if (moduleRef instanceof Error) return moduleRef.message;
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
    return 'booted';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await app.close().catch(() => undefined);
  }
}
