import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ExportService, ExportStatus } from 'nestjs-data-export';
import type { SampleApp } from '../../sample-app/create-sample-app';
import { setupSampleBrowser } from '../utils/sample-browser';
import { waitForExport } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';

const exec = promisify(execFile);
const harness = setupSampleBrowser();
jest.setTimeout(90_000);

describe('help-desk sample: tickets carry screenshots into the archive', () => {
  let sample: SampleApp;

  beforeAll(async () => {
    sample = await harness.boot('attachments', { tickets: 200 });
  });
  afterAll(() => sample?.close());

  it("puts every tenth ticket's PNG under attachments/tickets/, stored, listed in the manifest with its sha256", async () => {
    const owner = sample.users.find((u) => u.role === 'owner' && u.teamId === 'northwind-outfitters')!;
    const service = sample.app.get(ExportService);
    const principal = { userId: owner.id, accountId: owner.teamId, role: 'owner' };
    const view = await service.request(principal, { format: 'zip' } as never);
    const row = await waitForExport(sample.dataSource, view.id, 60_000);
    expect([row.status, row.error]).toEqual([ExportStatus.Completed, null]);
    const { downloadUrl } = await service.get(principal, row.id);
    const download = await service.openDownload(row.id, new URL(downloadUrl!).searchParams.get('token'), undefined, { principal });
    const chunks: Buffer[] = [];
    for await (const chunk of download.stream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const zip = await readZip(bytes);
    const manifest = JSON.parse(zip.get('manifest.json')!.toString('utf8'));
    const tickets = parseNdjson(zip.get('tickets.ndjson')!);
    const withShots = tickets.filter((t) => t.screenshot !== null);
    expect(withShots.length).toBeGreaterThan(0);
    expect(withShots.every((t) => (t.number as number) % 10 === 0)).toBe(true);
    expect(manifest.missing).toEqual([]);
    expect(manifest.attachments).toHaveLength(withShots.length);
    for (const t of withShots) {
      const ref = t.screenshot as { path: string; contentType: string };
      expect(ref).toEqual({ path: `attachments/tickets/${t.id}/ticket-${t.number}.png`, size: null, contentType: 'image/png' });
      const png = zip.get(ref.path)!;
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    }
    const file = join(harness.tmp, 'sample-attachments.zip');
    writeFileSync(file, bytes);
    const { stdout } = await exec('python3', ['-c', 'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(set(i.compress_type for i in z.infolist() if i.filename.endswith(".png")))', file]);
    expect(stdout.trim()).toBe('{0}');
  });
});
