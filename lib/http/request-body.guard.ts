import { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ExportInvalidRequestException, ExportUnsupportedMediaTypeException } from '../common/export.exception';
import { readJsonBody } from './json-body.util';
import { isJsonType, mediaType, nodeRequest, originalContentType } from './http-adapter.util';

/** Deepest nesting a body may have; `POST /exports` needs 2 (an object holding a list). */
export const MAX_BODY_DEPTH = 32;

/** Keys that mean prototype pollution to code that merges objects. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface ExportRequestBodyGuardOptions {
  /**
   * Also accept an empty `application/x-www-form-urlencoded` body: what the confirmation
   * page's button (a same-origin form with no field) sends.
   */
  emptyForm?: boolean;
}

/**
 * Checks the body of a state-changing request before any pipe (class-transformer,
 * class-validator, a host's global ValidationPipe) reads it:
 * - 415 unless the body is JSON (`application/json`, `application/*+json`) or absent: a
 *   cross-site HTML form can only send `text/plain`, form-urlencoded or multipart bodies, so
 *   refusing them refuses the form (even one with no field);
 * - 400 for a body nested deeper than {@link MAX_BODY_DEPTH} or holding a `__proto__`,
 *   `constructor` or `prototype` key anywhere.
 * A `+json` body the host's parser skipped is read here.
 * @internal
 */
export class ExportRequestBodyGuard implements CanActivate {
  constructor(private readonly options: ExportRequestBodyGuardOptions = {}) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const type = mediaType(originalContentType(req));
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (isJsonType(type)) {
      if (hasBody && req.body === undefined) req.body = await readJsonBody(nodeRequest(req));
      assertPlainJson(req.body);
      return true;
    }
    if (!hasBody && (type === undefined || (this.options.emptyForm && type === FORM_TYPE))) return true;
    throw new ExportUnsupportedMediaTypeException();
  }
}

/** Walks a parsed body without recursion, so that no depth can overflow the stack. @internal */
export function assertPlainJson(body: unknown): void {
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) {
      throw new ExportInvalidRequestException(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels.`);
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new ExportInvalidRequestException(`The request body may not hold a "${key}" key.`);
      }
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
}
