import { createPrivateKey, generateKeyPairSync, KeyObject, verify } from 'node:crypto';
import { InvalidExportOptionsError } from '../common/export.error';
import { signManifest } from '../archive/manifest-signature.util';
import type { ExportModuleOptions } from './export-module-options.interface';
import { resolveExportOptions } from './validate-export-options.util';

const SECRET = 's'.repeat(32);
const ed25519 = generateKeyPairSync('ed25519');
const privatePem = ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

const resolve = (signing: unknown) => resolveExportOptions({ secret: SECRET, signing } as ExportModuleOptions);

function refusal(signing: unknown): Error {
  try {
    resolve(signing);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal');
}

describe('signing option', () => {
  it('is off by default', () => {
    expect(resolveExportOptions({ secret: SECRET }).signing).toBeUndefined();
  });

  it('takes an Ed25519 private key as PEM or KeyObject, with an optional key id', () => {
    const fromPem = resolve({ privateKey: privatePem, keyId: 'exports-2026.1' })!.signing!;
    expect(fromPem.keyId).toBe('exports-2026.1');
    expect(fromPem.privateKey).toBeInstanceOf(KeyObject);
    const manifest = Buffer.from('{"exportVersion":"1"}\n');
    const signature = Buffer.from(signManifest(manifest, fromPem).toString('ascii').trim(), 'base64');
    expect(verify(null, manifest, ed25519.publicKey, signature)).toBe(true);
    expect(resolve({ privateKey: ed25519.privateKey }).signing).toEqual({ privateKey: ed25519.privateKey });
  });

  it.each([
    ['an RSA key', () => ({ privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) }), /is not an Ed25519 key \(its type is rsa\); archives are signed with Ed25519 only\. Make one with `openssl genpkey -algorithm ed25519/],
    ['an EC key', () => ({ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }), /its type is ec\); archives are signed with Ed25519 only/],
    ['the public key', () => ({ privateKey: ed25519.publicKey }), /is a public key\. Pass the private key/],
    ['text that is no key', () => ({ privateKey: 'not a key at all' }), /is not a readable private key\. Pass the PEM text of an Ed25519 key, made with `openssl genpkey/],
    ['a key without its object', () => ed25519.privateKey, /must be \{ privateKey, keyId\? \}/],
    ['an empty key', () => ({ privateKey: '' }), /must be \{ privateKey, keyId\? \}/],
    ['a bad key id', () => ({ privateKey: privatePem, keyId: 'a b' }), /"signing\.keyId" must be 1 to 100 letters/],
  ])('refuses %s at boot, saying how to fix it', (_, signing, message) => {
    const err = refusal(signing());
    expect(err).toBeInstanceOf(InvalidExportOptionsError);
    expect(err.message).toMatch(message);
  });

  it('never quotes the key in a refusal', () => {
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const broken = privatePem.replace('MC4C', 'MC4X');
    for (const signing of [{ privateKey: rsaPem }, { privateKey: broken }, { privateKey: privatePem, keyId: privatePem }]) {
      const message = refusal(signing).message;
      for (const pem of [rsaPem, broken, privatePem]) {
        for (const line of pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) expect(message).not.toContain(line.slice(0, 20));
      }
    }
    expect(() => createPrivateKey(broken)).toThrow();
  });
});
