import fc from 'fast-check';
import request from 'supertest';
import { DataExport, ExportStatus } from 'nestjs-data-export';
import { createTestApp, TestApp, waitForExport } from '../utils/test-app';
import { fakeAuth } from '../utils/fake-auth';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk } from '../fixtures/help-desk.seed';

const CODES: Record<number, string[]> = {
  400: ['EXPORT_INVALID_REQUEST'],
  401: ['EXPORT_UNAUTHENTICATED'],
  403: ['EXPORT_FORBIDDEN', 'EXPORT_LINK_INVALID'],
  404: ['EXPORT_NOT_FOUND'],
  409: ['EXPORT_ALREADY_ACTIVE', 'EXPORT_NOT_READY'],
  410: ['EXPORT_LINK_EXPIRED'],
  416: ['EXPORT_INVALID_REQUEST'],
  429: ['EXPORT_COOLDOWN'],
  503: ['EXPORT_QUEUE_UNAVAILABLE'],
};
const SUCCESS = [200, 202, 206];
const ACTIVE = [ExportStatus.Pending, ExportStatus.Confirmed, ExportStatus.Processing, ExportStatus.Completed];

/** Any generated value as JSON text (what a client can send). */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return 'null';
  }
}

describe('fuzzing every endpoint', () => {
  let t: TestApp;
  let http: ReturnType<typeof request>;
  const known: { id: string; token: string }[] = [];
  const seen = new Map<number, number>();

  beforeAll(async () => {
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, configure: fakeAuth, exportOptions: { cooldown: '1h' } });
    await seedHelpDesk(t.dataSource, 3);
    http = request(t.app.getHttpServer());
    // Real exports, so that real ids and genuine tokens can be mutated.
    for (const account of ['team-a', 'team-b']) {
      const created = await http.post('/exports').set('x-user', `u:${account}:owner`).send({}).expect(202);
      await waitForExport(t.dataSource, created.body.id);
      const view = await http.get(`/exports/${created.body.id}`).set('x-user', `u:${account}:owner`).expect(200);
      known.push({ id: created.body.id, token: new URL(view.body.downloadUrl).searchParams.get('token')! });
    }
  });
  afterAll(() => t?.close());

  const principal = fc.option(
    fc.oneof(
      fc.constantFrom('u1:team-a:owner', 'u2:team-a:admin', 'u3:team-a:agent', 'u4:team-b:owner', 'u5:team-c:admin', 'u6:team-d:owner'),
      fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.constantFrom('owner', 'admin', 'agent', '', 'OWNER')).map((p) => p.join(':')),
      fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    ),
    { nil: undefined },
  );
  const id = fc.oneof(
    fc.constantFrom(...['00000000-0000-4000-8000-000000000000', '..', '%2e%2e', 'null', '0', "' OR 1=1 --", 'a'.repeat(300)]),
    fc.uuid(),
    // Never empty: `/exports/` with no id is another route (the host's 404).
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constant('__known__'),
  );
  const token = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 80 }),
    fc.constant('__known__'),
    fc.tuple(fc.nat({ max: 79 }), fc.string({ minLength: 1, maxLength: 1 })).map(([i, c]) => `__mutate__${i}:${c}`),
  );
  const body = fc.oneof(
    // Valid bodies often enough that the policy (202, 409, 429) is reached, not only validation.
    fc.constantFrom({}, { format: 'json' }, { categories: ['tickets'] }),
    fc.record(
      {
        format: fc.oneof(fc.constantFrom('zip', 'json', 'csv', ''), fc.anything()),
        categories: fc.oneof(fc.array(fc.constantFrom('customers', 'tickets', 'messages', 'webhooks', 'payroll', '../x')), fc.anything()),
        since: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), fc.anything()),
        until: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), fc.anything()),
        includeDeleted: fc.anything(),
        extra: fc.anything(),
      },
      { requiredKeys: [] },
    ),
    fc.anything(),
    fc.string().map((s) => ({ __raw: s })),
  );
  const range = fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`), fc.nat().map((n) => `bytes=-${n}`)), { nil: undefined });
  const route = fc.constantFrom('create', 'list', 'get', 'delete', 'download', 'head', 'confirm-get', 'confirm-post', 'events');

  function resolveId(value: string, pick: number): string {
    return value === '__known__' ? known[pick % known.length].id : value;
  }
  function resolveToken(value: string | undefined, pick: number): string | undefined {
    const real = known[pick % known.length].token;
    if (value === '__known__') return real;
    const mutate = value && /^__mutate__(\d+):([\s\S])$/.exec(value);
    if (mutate) {
      const i = Number(mutate[1]) % real.length;
      return real.slice(0, i) + mutate[2] + real.slice(i + 1);
    }
    return value;
  }

  it('never answers 500; every refusal has its documented status and code (1,200 generated requests)', async () => {
    await fc.assert(
      fc.asyncProperty(route, principal, id, token, body, range, fc.nat(), async (r, who, rawId, rawToken, payload, rangeHeader, pick) => {
        const exportId = encodeURIComponent(resolveId(rawId, pick));
        const tok = resolveToken(rawToken, pick);
        const query = tok === undefined ? '' : `?token=${encodeURIComponent(tok)}`;
        let req: request.Test;
        switch (r) {
          case 'create':
            req = http.post('/exports');
            if (payload && typeof payload === 'object' && '__raw' in (payload as object)) {
              req = req.set('content-type', 'application/json').send(String((payload as { __raw: string }).__raw));
            } else {
              req = req.set('content-type', 'application/json').send(jsonText(payload));
            }
            break;
          case 'list':
            req = http.get('/exports');
            break;
          case 'get':
            req = http.get(`/exports/${exportId}`);
            break;
          case 'delete':
            req = http.delete(`/exports/${exportId}`);
            break;
          case 'download':
            req = http.get(`/exports/${exportId}/download${query}`);
            break;
          case 'head':
            req = http.head(`/exports/${exportId}/download${query}`);
            break;
          case 'confirm-get':
            req = http.get(`/exports/${exportId}/confirm${query}`);
            break;
          case 'confirm-post':
            req = http.post(`/exports/${exportId}/confirm${query}`).set('accept', 'application/json');
            break;
          case 'events':
            // Only ids that are not exports of the caller: a real stream would stay open.
            req = http.get(`/exports/${encodeURIComponent(rawId === '__known__' ? 'missing' : rawId)}/events`);
            break;
        }
        if (who !== undefined) req = req.set('x-user', who);
        if (rangeHeader !== undefined) req = req.set('range', rangeHeader);
        const res = await req;
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        if (SUCCESS.includes(res.status)) return;
        expect(Object.keys(CODES).map(Number)).toContain(res.status);
        if (r !== 'head') {
          expect(res.body.statusCode).toBe(res.status);
          expect(CODES[res.status]).toContain(res.body.code);
          expect(typeof res.body.message).toBe('string');
        }
      }),
      { numRuns: 1200, seed: 20261125 },
    );

    // Every documented refusal was produced at least once, and nothing else.
    for (const status of [202, 400, 401, 403, 404, 409, 410]) expect(seen.get(status) ?? 0).toBeGreaterThan(0);
    expect(seen.has(500)).toBe(false);

    // The database stayed consistent: at most one slot holder per account, only active exports
    // hold one, and none is left stuck before completion.
    const rows = await t.dataSource.getRepository(DataExport).find();
    await Promise.all(rows.filter((r) => r.status === ExportStatus.Confirmed || r.status === ExportStatus.Processing).map((r) => waitForExport(t.dataSource, r.id)));
    const after = await t.dataSource.getRepository(DataExport).find();
    const holders = after.filter((r) => r.activeSlot !== null);
    expect(new Set(holders.map((r) => r.activeSlot)).size).toBe(holders.length);
    for (const r of holders) {
      expect(ACTIVE).toContain(r.status);
      expect(r.activeSlot).toBe(r.accountId);
    }
    for (const r of after.filter((x) => x.activeSlot === null)) expect(ACTIVE.slice(0, 3)).not.toContain(r.status);
  });
});
