import { isSensitiveName, nameWords } from './sensitive-name.util';

describe('isSensitiveName', () => {
  it('splits camelCase, snake_case and acronyms into words', () => {
    expect(nameWords('apiKeyHash')).toEqual(['api', 'key', 'hash']);
    expect(nameWords('refresh_token')).toEqual(['refresh', 'token']);
    expect(nameWords('MFASecret')).toEqual(['mfa', 'secret']);
  });

  it.each([
    'password', 'passwordHash', 'password_hash', 'hashedPassword', 'secret', 'clientSecret', 'token',
    'refreshToken', 'access_token', 'mfaSecret', 'otpSecret', 'totpSeed', 'apiKey', 'api_key', 'APIKey',
    'privateKey', 'salt', 'passwordSalt', 'signingSecret', 'recoveryCodes', 'credentials', 'sessionCookie',
  ])('%s means a credential', (name) => expect(isSensitiveName(name)).toBe(true));

  it.each(['email', 'name', 'keyboardLayout', 'monkey', 'description', 'passage', 'tokenizerVersion', 'saltwater', 'id', 'createdAt'])(
    '%s does not',
    (name) => expect(isSensitiveName(name)).toBe(false),
  );
});
