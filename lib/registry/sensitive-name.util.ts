const SECRET_WORDS = new Set([
  'password', 'passwd', 'passphrase', 'pwd', 'secret', 'secrets', 'token', 'tokens', 'salt',
  'credential', 'credentials', 'cookie', 'cvv', 'cvc',
]);
const SECRET_PAIRS: [string, string][] = [
  ['api', 'key'], ['private', 'key'], ['access', 'key'], ['secret', 'key'], ['signing', 'key'],
  ['encryption', 'key'], ['client', 'secret'], ['otp', 'seed'], ['otp', 'key'], ['totp', 'seed'],
  ['totp', 'key'], ['mfa', 'seed'], ['mfa', 'key'], ['recovery', 'code'], ['recovery', 'codes'],
  ['backup', 'codes'], ['password', 'hash'], ['webhook', 'signature'],
];
const SECRET_JOINED = new Set(['apikey', 'privatekey', 'accesskey', 'secretkey', 'otpsecret', 'totpsecret', 'mfasecret', 'hmackey']);

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
 * Whether a column name means a credential (password and its hashes, secret, token, API key,
 * private key, salt, MFA/OTP seed, ...). Such columns are redacted unless a field opts in.
 * @internal
 */
export function isSensitiveName(name: string): boolean {
  const words = nameWords(name);
  if (words.some((w) => SECRET_WORDS.has(w) || SECRET_JOINED.has(w))) return true;
  for (let i = 0; i + 1 < words.length; i++) {
    if (SECRET_PAIRS.some(([a, b]) => words[i] === a && words[i + 1] === b)) return true;
  }
  return false;
}
