import { exportSlot, subjectOf } from './export-slot.util';

describe('exportSlot', () => {
  it('is the account id for an account export, as rows written before personal exports hold it', () => {
    expect(exportSlot('acme', 'account', null)).toBe('acme');
    expect(exportSlot('acme', 'account', 'u1')).toBe('acme');
  });

  it('is one 64-digit digest per (account, member) for a personal export, whatever the ids\' lengths', () => {
    const long = 'x'.repeat(191);
    const slots = [exportSlot('acme', 'personal', 'u1'), exportSlot('acme', 'personal', 'u2'), exportSlot('other', 'personal', 'u1'), exportSlot(long, 'personal', long)];
    for (const slot of slots) expect(slot).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(slots).size).toBe(4);
    expect(exportSlot('acme', 'personal', 'u1')).toBe(exportSlot('acme', 'personal', 'u1'));
    // The separator keeps "a" + "b:c" and "a:b" + "c" apart.
    expect(exportSlot('a', 'personal', 'b:c')).not.toBe(exportSlot('a:b', 'personal', 'c'));
  });
});

describe('subjectOf', () => {
  it('gives the member of a personal export and the requester of an account export', () => {
    expect(subjectOf({ accountId: 'acme', kind: 'account', subjectUserId: null, requestedBy: 'owner' })).toEqual({ kind: 'account', accountId: 'acme', userId: 'owner', requestedBy: 'owner' });
    expect(subjectOf({ accountId: 'acme', kind: 'personal', subjectUserId: 'u2', requestedBy: 'owner' })).toEqual({ kind: 'personal', accountId: 'acme', userId: 'u2', requestedBy: 'owner' });
  });
});
