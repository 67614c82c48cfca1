import { ExportInvalidRequestException } from '../common/export.exception';
import { timeOrderedId } from '../lifecycle/export-audit';
import { actorId, decodeCursor, encodeCursor, listDate, reasonOf } from './export-admin.util';

describe('admin service helpers', () => {
  it('a cursor reads back as the position it was made from, and a foreign one is refused', () => {
    const at = new Date('2026-03-01T10:00:00.123Z');
    const id = '0b6f1f4e-8d2a-4c1e-9a53-3f2d1c0b9a87';
    expect(decodeCursor(encodeCursor(at, id))).toEqual({ at, id });
    for (const bad of ['', 'x', Buffer.from('2026-03-01|not-an-id').toString('base64url'), Buffer.from(`nope|${id}`).toString('base64url'), Buffer.from(`${at.toISOString()}|${id}|x`).toString('base64url'), 'a'.repeat(300), 42]) {
      expect(() => decodeCursor(bad)).toThrow(ExportInvalidRequestException);
    }
  });

  it('an actor is a user id or an object with one, fitting its column', () => {
    expect(actorId('ops-1')).toBe('ops-1');
    expect(actorId({ userId: 'ops-2', email: 'o@x' })).toBe('ops-2');
    for (const bad of ['', '  ', 'x'.repeat(192), { userId: '' }, null, undefined, 7]) {
      expect(() => actorId(bad as never)).toThrow(ExportInvalidRequestException);
    }
  });

  it('reasons are trimmed and bounded, dates checked', () => {
    expect(reasonOf('  why  ')).toEqual({ reason: 'why' });
    expect(reasonOf('x'.repeat(900))!.reason).toHaveLength(500);
    expect(reasonOf(' ')).toBeUndefined();
    expect(reasonOf(3)).toBeUndefined();
    expect(listDate('from', '2026-01-01T00:00:00Z')).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(listDate('from', undefined)).toBeUndefined();
    expect(() => listDate('from', 'soon')).toThrow(/from must be a date/);
    expect(() => listDate('to', {})).toThrow(ExportInvalidRequestException);
  });

  it('audit record ids are UUIDs (v7) that sort in the order they were made', () => {
    const ids = Array.from({ length: 5000 }, () => timeOrderedId());
    expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
