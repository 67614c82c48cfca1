import { createPrivateKey, KeyObject } from 'node:crypto';
import { InvalidExportOptionsError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import type { ExportModuleOptions, ResolvedExportSigning } from './export-module-options.interface';

const KEY_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Checks the `signing` option: an Ed25519 private key (PEM or KeyObject) and an optional key id.
 * The messages never quote the key.
 * @internal
 */
export function resolveSigning(value: ExportModuleOptions['signing']): ResolvedExportSigning | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || value instanceof KeyObject) {
    throw new InvalidExportOptionsError(ExportMessages.badSigning());
  }
  const { privateKey, keyId } = value;
  let key: KeyObject;
  if (privateKey instanceof KeyObject) {
    key = privateKey;
  } else if (typeof privateKey === 'string' && privateKey.trim() !== '') {
    try {
      key = createPrivateKey(privateKey);
    } catch {
      throw new InvalidExportOptionsError(ExportMessages.unreadableSigningKey());
    }
  } else {
    throw new InvalidExportOptionsError(ExportMessages.badSigning());
  }
  if (key.type !== 'private') throw new InvalidExportOptionsError(ExportMessages.signingKeyNotPrivate());
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidExportOptionsError(ExportMessages.signingKeyNotEd25519(key.asymmetricKeyType ?? 'secret'));
  }
  if (keyId !== undefined && (typeof keyId !== 'string' || !KEY_ID.test(keyId))) {
    throw new InvalidExportOptionsError(ExportMessages.badSigningKeyId(keyId));
  }
  return Object.freeze({ privateKey: key, ...(keyId !== undefined ? { keyId } : {}) });
}
