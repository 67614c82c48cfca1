import 'reflect-metadata';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { Exportable } from './exportable.decorator';
import { ExportFile, ExportFileOptions } from './export-file.decorator';
import { Redact } from './redact.decorator';
import { DataExport } from '../entities/data-export.entity';
import { ExportRegistryError } from '../common/export.error';
import { ExportMetadataAccessor } from './export-metadata.accessor';
import { ExportExplorer } from './export.explorer';
import { ExportRegistry } from './export.registry';
import type { EntityCategory } from './export-category.interface';

async function boot(entity: Function) {
  const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [DataExport, entity] });
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  const registry = new ExportRegistry();
  new ExportExplorer(dataSource, new ExportMetadataAccessor(), registry).onModuleInit();
  return registry;
}

function documentWith(options: Partial<ExportFileOptions>, redact = false): Function {
  @Exportable({ category: 'docs', scope: 'teamId' })
  @Entity({ name: `doc_${Math.random().toString(36).slice(2)}` })
  class Doc {
    @PrimaryColumn() id!: string;
    @Column() teamId!: string;
    @ExportFile(options as ExportFileOptions)
    @(redact ? Redact() : () => undefined)
    @Column({ nullable: true })
    file!: string;
  }
  return Doc;
}

describe('@ExportFile at boot', () => {
  it('plans the file field with its defaults (50 MiB, skip, 60 s) and the row id keys', async () => {
    const resolve = () => null;
    const registry = await boot(documentWith({ resolve }));
    const docs = registry.getEntityCategories().find((c) => c.name === 'docs') as EntityCategory;
    expect(docs.files).toEqual([{ key: 'file', resolve, maxBytes: 50 * 1024 * 1024, onError: 'skip', stallTimeoutMs: 60_000 }]);
    expect(docs.idKeys).toEqual(['id']);
  });

  it.each([
    [{ resolve: 'nope' }, '"resolve" must be a function'],
    [{ resolve: (): null => null, maxBytes: '50 parsecs' }, '"maxBytes" must be a positive number of bytes'],
    [{ resolve: (): null => null, maxBytes: -1 }, '"maxBytes" must be a positive number of bytes'],
    [{ resolve: (): null => null, onError: 'retry' }, `"onError" must be 'skip' or 'fail'`],
    [{ resolve: (): null => null, stallTimeout: 'soon' }, '"stallTimeout" must be a duration'],
  ])('refuses %j', async (options, message) => {
    await expect(boot(documentWith(options as Partial<ExportFileOptions>))).rejects.toThrow(ExportRegistryError);
    await expect(boot(documentWith(options as Partial<ExportFileOptions>))).rejects.toThrow(message);
  });

  it('refuses a field that is also @Redact()', async () => {
    await expect(boot(documentWith({ resolve: () => null }, true))).rejects.toThrow('@ExportFile on Doc.file: it is also @Redact()');
  });
});
