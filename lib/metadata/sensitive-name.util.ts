/** Words that alone mean a credential: `password`, `refresh_token`, `PIN`, `userJWT`. */
const SECRET_WORDS = new Set([
  'password', 'passwords', 'passwd', 'passphrase', 'passcode', 'passcodes', 'passkey', 'passkeys', 'pwd',
  'secret', 'secrets', 'token', 'tokens', 'salt', 'credential', 'credentials', 'cookie', 'bearer', 'jwt', 'jwts',
  'pin', 'mnemonic', 'keypair', 'cvv', 'cvc', 'cvv2', 'cvc2', 'ssn',
]);
/**
 * Endings of a one-word name that holds a credential, as all-lowercase column names write it
 * (`accesstoken`, `apppassword`, `clientsecret`). No English word outside credentials ends so.
 */
const SECRET_ENDINGS = ['token', 'tokens', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'passphrase', 'passcode'];
/**
 * A word, then the words that make a credential when they follow it: `privKey`, `session_id`,
 * `seedPhrase`. Plurals are folded before the look-up (`recoveryKeys`, `backup_codes`).
 */
const SECRET_PAIRS = new Map<string, readonly string[]>([
  ['access', ['key']],
  ['api', ['key']],
  ['auth', ['key', 'code']],
  ['authorization', ['code']],
  ['backup', ['code', 'key']],
  ['card', ['number']],
  ['decryption', ['key']],
  ['enc', ['key']],
  ['encrypt', ['key']],
  ['encryption', ['key']],
  ['hmac', ['key']],
  ['hotp', ['key', 'seed']],
  ['key', ['pair']],
  ['license', ['key']],
  ['master', ['key']],
  ['memorable', ['word']],
  ['mfa', ['code', 'key', 'seed']],
  ['otp', ['code', 'key', 'seed']],
  ['priv', ['key']],
  ['private', ['key']],
  ['recovery', ['code', 'key', 'phrase', 'seed']],
  ['security', ['answer']],
  ['seed', ['phrase', 'word']],
  ['session', ['id', 'key']],
  ['sign', ['key']],
  ['signing', ['key']],
  ['totp', ['key', 'seed']],
  ['verification', ['code']],
  ['wallet', ['seed']],
  ['webhook', ['signature']],
]);
/** Pairs written as one lowercase word: `apikey`, `privkey`, `sessionid`. */
const SECRET_JOINED = new Set([
  'apikey', 'accesskey', 'authkey', 'privatekey', 'privkey', 'secretkey', 'signingkey', 'encryptionkey', 'hmackey',
  'masterkey', 'licensekey', 'sessionid', 'sessionkey', 'seedphrase', 'pincode', 'recoverycode', 'recoverycodes',
  'recoverykey', 'backupcode', 'backupcodes', 'securityanswer', 'cardnumber',
]);
const PLURALS = new Set(['answers', 'codes', 'keys', 'numbers', 'phrases', 'seeds', 'words']);

/** Splits `apiKeyHash`, `api_key_hash`, `API-KEY` into lowercase words. @internal */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/**
 * Whether a column name means a credential or a secret: a password and its hashes, a secret,
 * token, JWT or session id, an API, private or signing key, a salt, an MFA/OTP seed or an
 * `otpauth://` URI, a PIN, recovery codes, a seed phrase, a security answer, card data, an SSN.
 * Such columns are redacted unless a field opts in.
 * @internal
 */
export function isSensitiveName(name: string): boolean {
  // An otpauth:// URI holds the TOTP seed, however the name writes the word.
  if (name.toLowerCase().replace(/[^a-z0-9]/g, '').includes('otpauth')) return true;
  const words = nameWords(name);
  if (words.some((w) => SECRET_WORDS.has(w) || SECRET_JOINED.has(w) || SECRET_ENDINGS.some((e) => w.endsWith(e)))) return true;
  const folded = words.map((w) => (PLURALS.has(w) ? w.slice(0, -1) : w));
  return folded.some((w, i) => i + 1 < folded.length && (SECRET_PAIRS.get(w)?.includes(folded[i + 1]) ?? false));
}
