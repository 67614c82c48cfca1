import { isSensitiveName, nameWords } from './sensitive-name.util';

/**
 * Every name the rule has been decided on, with its verdict: `true` = redacted unless the field
 * opts in, `false` = exported. A change to the rule shows here as the rows that moved.
 */
const VERDICTS: [name: string, redacted: boolean, why?: string][] = [
  // Passwords and their hashes.
  ['password', true],
  ['passwordHash', true],
  ['password_hash', true],
  ['hashedPassword', true],
  ['passwordSalt', true],
  ['appPassword', true],
  ['apppassword', true, 'one lowercase word ending in password'],
  ['passcode', true],
  ['devicePasscode', true],
  ['passkeys', true],
  ['pwd', true],
  // Secrets and tokens.
  ['secret', true],
  ['clientSecret', true],
  ['clientsecret', true, 'one lowercase word ending in secret'],
  ['signingSecret', true],
  ['token', true],
  ['refreshToken', true],
  ['refresh_token', true],
  ['refreshtoken', true, 'one lowercase word ending in token'],
  ['access_token', true],
  ['idToken', true],
  ['id_token', true],
  ['bearer', true],
  ['bearerHeader', true],
  ['jwt', true],
  ['userJWT', true],
  ['sessionToken', true],
  ['sessionKey', true],
  ['sessionId', true, 'a session id is the bearer of the session'],
  ['session_id', true],
  ['sessionCookie', true],
  ['credentials', true],
  ['salt', true],
  ['tokenCount', true, 'the word token: a count opts in with @ExportField({ sensitive: false }), as the fixture does'],
  // Keys.
  ['apiKey', true],
  ['api_key', true],
  ['APIKey', true],
  ['authKey', true],
  ['auth_key', true],
  ['privateKey', true],
  ['private_key_pem', true],
  ['privKey', true],
  ['priv_key', true],
  ['privkey', true],
  ['sshPrivateKeys', true],
  ['signingKey', true],
  ['signKey', true],
  ['encryptionKey', true],
  ['encKey', true],
  ['decryptionKey', true],
  ['hmacKey', true],
  ['masterKey', true],
  ['licenseKey', true],
  ['keyPair', true],
  // MFA and recovery.
  ['mfaSecret', true],
  ['otpSecret', true],
  ['totpSeed', true],
  ['otpCode', true],
  ['otpauthUrl', true, 'an otpauth:// URI holds the TOTP seed'],
  ['otpAuthUri', true],
  ['totp_otpauth', true],
  ['OTPAUTH', true],
  ['recoveryCodes', true],
  ['recovery_keys', true],
  ['backupCode', true],
  ['recoveryPhrase', true],
  ['seedPhrase', true],
  ['seed_words', true],
  ['mnemonic', true],
  ['walletMnemonic', true],
  ['securityAnswer', true],
  ['security_answers', true],
  ['memorableWord', true],
  ['verificationCode', true],
  // PINs, card data, SSN.
  ['pin', true],
  ['PIN', true],
  ['pinCode', true],
  ['pin_hash', true],
  ['pincode', true],
  ['simPin', true],
  ['cvv', true],
  ['cardNumber', true],
  ['ssn', true, 'an SSN is used as a proof of identity'],
  ['ssnLast4', true],
  ['mapPinColor', true, 'pin as a word: a map pin opts in'],
  // Ordinary fields.
  ['id', false],
  ['email', false],
  ['name', false],
  ['createdAt', false],
  ['description', false],
  ['key', false, 'a key alone is a setting or a lookup name'],
  ['keyId', false],
  ['sortKey', false],
  ['idempotencyKey', false],
  ['primaryKey', false],
  ['publicKey', false],
  ['public_key', false],
  ['keyboardLayout', false],
  ['monkey', false],
  ['turkey', false],
  ['hockeyTeam', false],
  ['authorName', false],
  ['authorId', false],
  ['authorizedAt', false],
  ['authMethod', false],
  ['oauthProvider', false],
  ['sessionCount', false],
  ['lastSessionAt', false],
  ['pinned', false],
  ['pinnedAt', false],
  ['spinner', false],
  ['pinterestUrl', false],
  ['pinyin', false],
  ['tokenizerVersion', false],
  ['passage', false],
  ['passenger', false],
  ['bypassCache', false],
  ['saltwater', false],
  ['secretary', false],
  ['recoveryEmail', false],
  ['backupCreatedAt', false],
  ['randomSeed', false],
  ['securityQuestion', false],
  ['emailSignature', false],
  ['mfaEnabled', false],
  ['otpEnabled', false],
  ['nationalId', false, 'personal data the account is owed: mask it with @Redact when needed'],
  ['cardLast4', false],
];

describe('isSensitiveName', () => {
  it('splits camelCase, snake_case and acronyms into words', () => {
    expect(nameWords('apiKeyHash')).toEqual(['api', 'key', 'hash']);
    expect(nameWords('refresh_token')).toEqual(['refresh', 'token']);
    expect(nameWords('MFASecret')).toEqual(['mfa', 'secret']);
    expect(nameWords('PINCode')).toEqual(['pin', 'code']);
    expect(nameWords('ssnLast4')).toEqual(['ssn', 'last4']);
  });

  it('holds at least 40 decided names, each once', () => {
    expect(VERDICTS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(VERDICTS.map(([name]) => name)).size).toBe(VERDICTS.length);
  });

  it.each(VERDICTS.map(([name, redacted, why]) => ({ name, redacted, verdict: redacted ? 'redacted' : 'kept', why: why ? ` (${why})` : '' })))(
    '$name: $verdict$why',
    ({ name, redacted }) => expect(isSensitiveName(name)).toBe(redacted),
  );
});
