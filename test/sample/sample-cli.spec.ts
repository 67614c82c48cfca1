import { parseCli, USAGE } from '../../sample-app/infra/cli';

/* `npm run sample` follows the product the seeds describe: a confirmation email first. */

describe('npm run sample options', () => {
  it('require email confirmation by default; --no-confirm turns it off', () => {
    expect(parseCli([], {}).confirm).toBe(true);
    expect(parseCli(['--no-confirm'], {}).confirm).toBe(false);
    expect(parseCli(['--confirm'], {}).confirm).toBe(true);
  });

  it('document --no-confirm', () => {
    expect(USAGE).toContain('--no-confirm');
    expect(USAGE).not.toMatch(/^ {2}--confirm\b/m);
  });
});
