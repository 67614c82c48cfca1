import { sign } from 'node:crypto';
import type { ResolvedExportSigning } from '../options/export-module-options.interface';

/** The ZIP entry that holds the manifest's detached signature. @internal */
export const MANIFEST_SIGNATURE_FILE = 'manifest.sig';

/** What a signed manifest says about its signature (`manifest.signature`). @publicApi */
export interface ManifestSignatureInfo {
  algorithm: 'Ed25519';
  /** The archive entry holding the base64 signature of the exact bytes of `manifest.json`. */
  file: typeof MANIFEST_SIGNATURE_FILE;
  keyId?: string;
}

/** The manifest's `signature` block. @internal */
export function signatureInfo(signing: ResolvedExportSigning): ManifestSignatureInfo {
  return { algorithm: 'Ed25519', file: MANIFEST_SIGNATURE_FILE, ...(signing.keyId ? { keyId: signing.keyId } : {}) };
}

/** `manifest.sig`: the Ed25519 signature of the manifest's bytes, base64, with a newline. @internal */
export function signManifest(manifest: Buffer, signing: ResolvedExportSigning): Buffer {
  return Buffer.from(`${sign(null, manifest, signing.privateKey).toString('base64')}\n`, 'ascii');
}
