import type { ExportAbout } from '../interfaces/export-about.interface';
import { InvalidExportOptionsError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';

const isText = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/**
 * An `about` block (the module's option, or a category's): `purpose`, `retention` and `source`
 * non-empty texts, `recipients` a list of them. `where` names it in the error.
 * @internal
 */
export function validateAbout(where: string, value: unknown): ExportAbout {
  if (value === undefined) return {};
  const v = value as Record<string, unknown> | null;
  const fine =
    v !== null &&
    typeof v === 'object' &&
    ['purpose', 'retention', 'source'].every((k) => v[k] === undefined || isText(v[k])) &&
    (v.recipients === undefined || (Array.isArray(v.recipients) && v.recipients.every(isText)));
  if (!fine) throw new InvalidExportOptionsError(ExportMessages.badAbout(where));
  const about = v as ExportAbout;
  return Object.freeze({
    ...(about.purpose ? { purpose: about.purpose } : {}),
    ...(about.recipients ? { recipients: Object.freeze([...about.recipients]) } : {}),
    ...(about.retention ? { retention: about.retention } : {}),
    ...(about.source ? { source: about.source } : {}),
  });
}
