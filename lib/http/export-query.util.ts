import { ExportInvalidRequestException } from '../common/export.exception';
import type { RequestExportInput } from '../interfaces/request-export.interface';

/** Query parameters of `GET /exports/estimate` and `GET /exports/instant`: the fields of a request. */
const PARAMETERS = ['kind', 'userId', 'format', 'categories', 'since', 'until', 'includeDeleted'] as const;

/**
 * A request's fields from a query string: `categories` repeated (`categories=a&categories=b`),
 * as a comma list (`categories=a,b`) or both; `includeDeleted=true|false`; the others as text.
 * Unknown parameters and repeated single values are refused, as POST refuses unknown fields.
 * @throws ExportInvalidRequestException
 * @internal
 */
export function parseExportQuery(query: Record<string, unknown> | undefined): RequestExportInput {
  const input: RequestExportInput = {};
  for (const [name, value] of Object.entries(query ?? {})) {
    if (!(PARAMETERS as readonly string[]).includes(name)) {
      throw new ExportInvalidRequestException(`Unknown query parameter ${JSON.stringify(name.slice(0, 64))}. Valid parameters: ${PARAMETERS.join(', ')}.`);
    }
    if (name === 'categories') {
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => typeof v !== 'string')) throw new ExportInvalidRequestException('categories must be category names: categories=a&categories=b or categories=a,b.');
      input.categories = (values as string[]).flatMap((v) => v.split(',')).map((c) => c.trim()).filter((c) => c.length > 0);
      continue;
    }
    if (typeof value !== 'string') throw new ExportInvalidRequestException(`${name} must be given once, as text.`);
    if (name === 'includeDeleted') {
      if (value !== 'true' && value !== 'false') throw new ExportInvalidRequestException('includeDeleted must be true or false.');
      input.includeDeleted = value === 'true';
    } else if (name === 'format') {
      input.format = value as RequestExportInput['format'];
    } else if (name === 'kind') {
      input.kind = value as RequestExportInput['kind'];
    } else if (name === 'userId') {
      input.userId = value;
    } else {
      input[name as 'since' | 'until'] = value;
    }
  }
  return input;
}
