import { BullModule, getQueueToken } from '@nestjs/bull';
import { DynamicModule, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DATA_EXPORT_ENTITIES, EXPORT_QUEUE, Exportable, ExportModule } from 'nestjs-data-export';
import { REDIS_URL } from '../utils/databases';
import { TEST_SECRET } from '../utils/test-app';

@Exportable({ category: 'notes', scope: 'teamId' })
@Entity('redis_choice_note')
class Note {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
}

/** Keeps what the app logs, by level. */
class CapturingLogger implements LoggerService {
  readonly lines: { level: string; context?: string; message: string }[] = [];
  log(message: string, context?: string): void {
    this.lines.push({ level: 'log', context, message });
  }
  warn(message: string, context?: string): void {
    this.lines.push({ level: 'warn', context, message });
  }
  error(message: string, _trace?: string, context?: string): void {
    this.lines.push({ level: 'error', context, message });
  }
  debug(): void {}
  verbose(): void {}
  warnings(): string[] {
    return this.lines.filter((l) => l.level === 'warn' && l.context === 'ExportModule').map((l) => l.message);
  }
}

/** Boots a host (SQLite, API only: no job is taken, no key written) and returns its warnings and queue connection. */
async function boot(imports: DynamicModule[]): Promise<{ warnings: string[]; redis: { host?: string; port?: number } }> {
  const logger = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', synchronize: true, entities: [Note, ...DATA_EXPORT_ENTITIES] }),
      ...imports,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  try {
    await app.init();
    const queue = app.get<Queue>(getQueueToken(EXPORT_QUEUE));
    const { host, port } = queue.client.options;
    return { warnings: logger.warnings(), redis: { host, port } };
  } finally {
    await app.close();
  }
}

const exportModule = (options: object = {}) => ExportModule.forRoot({ secret: TEST_SECRET, worker: false, http: false, ...options });

describe('the export queue’s Redis', () => {
  it('warns at boot, naming both fixes, when neither the redis option nor BullModule.forRoot is set', async () => {
    const { warnings, redis } = await boot([exportModule()]);
    // The fallback itself: Bull's default connection.
    expect(redis).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('127.0.0.1:6379');
    expect(warnings[0]).toContain('"redis" in ExportModule.forRoot()');
    expect(warnings[0]).toContain('BullModule.forRoot(');
  });

  it('says nothing with the redis option', async () => {
    const { warnings } = await boot([exportModule({ redis: REDIS_URL })]);
    expect(warnings).toEqual([]);
  });

  it('says nothing with the redis option given by forRootAsync', async () => {
    const module = ExportModule.forRootAsync({ useFactory: () => ({ secret: TEST_SECRET, redis: REDIS_URL }), worker: false, http: false });
    const { warnings } = await boot([module]);
    expect(warnings).toEqual([]);
  });

  it('says nothing, and uses the host’s connection, with BullModule.forRoot', async () => {
    const { warnings, redis } = await boot([BullModule.forRoot({ redis: { host: 'localhost', port: 6379 } }), exportModule()]);
    expect(warnings).toEqual([]);
    expect(redis).toEqual({ host: 'localhost', port: 6379 });
  });
});
