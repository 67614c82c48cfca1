import type { ExecutionContext } from '@nestjs/common';
import { ExportInvalidRequestException, ExportUnsupportedMediaTypeException } from '../common/export.exception';
import { isExportId } from '../common/export-id.util';
import { ExportRequestBodyGuard, MAX_BODY_DEPTH } from './request-body.guard';

/** What the guard reads of a request that Express parsed. */
function contextOf(headers: Record<string, string>, body?: unknown): ExecutionContext {
  const req = { headers, body };
  return { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
}

function nest(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

describe('ExportRequestBodyGuard', () => {
  const guard = new ExportRequestBodyGuard();
  const json = { 'content-type': 'application/json', 'content-length': '2' };

  it(`lets ${MAX_BODY_DEPTH} levels through and refuses ${MAX_BODY_DEPTH + 1}, without recursion`, async () => {
    await expect(guard.canActivate(contextOf(json, nest(MAX_BODY_DEPTH)))).resolves.toBe(true);
    await expect(guard.canActivate(contextOf(json, nest(MAX_BODY_DEPTH + 1)))).rejects.toBeInstanceOf(ExportInvalidRequestException);
    await expect(guard.canActivate(contextOf(json, nest(200_000)))).rejects.toThrow(/deeper than 32/);
  });

  it('refuses __proto__, constructor and prototype keys at any depth, and nothing else', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      await expect(guard.canActivate(contextOf(json, JSON.parse(`{"a":[{"b":{"${key}":1}}]}`)))).rejects.toThrow(`"${key}"`);
    }
    await expect(guard.canActivate(contextOf(json, { proto: 1, Constructor: 2, prototypes: 3, toString: 4 }))).resolves.toBe(true);
  });

  it('accepts JSON media types and no body; refuses the rest with 415', async () => {
    for (const type of ['application/json', 'Application/JSON; charset=utf-8', 'application/problem+json', 'application/vnd.api+json']) {
      await expect(guard.canActivate(contextOf({ 'content-type': type, 'content-length': '2' }, {}))).resolves.toBe(true);
    }
    await expect(guard.canActivate(contextOf({}))).resolves.toBe(true);
    await expect(guard.canActivate(contextOf({ 'content-length': '0' }))).resolves.toBe(true);
    for (const headers of [
      { 'content-type': 'text/plain', 'content-length': '0' },
      { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' },
      { 'content-type': 'application/json+x', 'content-length': '2' },
      { 'content-type': 'application/+json', 'content-length': '2' },
      { 'content-length': '2' },
      { 'transfer-encoding': 'chunked' },
    ] as Record<string, string>[]) {
      await expect(guard.canActivate(contextOf(headers, {}))).rejects.toBeInstanceOf(ExportUnsupportedMediaTypeException);
    }
  });

  it('with emptyForm, accepts exactly an empty form-urlencoded body', async () => {
    const confirm = new ExportRequestBodyGuard({ emptyForm: true });
    await expect(confirm.canActivate(contextOf({ 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }, {}))).resolves.toBe(true);
    await expect(confirm.canActivate(contextOf({ 'content-type': 'application/x-www-form-urlencoded', 'content-length': '3' }, { a: '' }))).rejects.toBeInstanceOf(
      ExportUnsupportedMediaTypeException,
    );
    await expect(confirm.canActivate(contextOf({ 'content-type': 'text/plain', 'content-length': '0' }))).rejects.toBeInstanceOf(ExportUnsupportedMediaTypeException);
  });
});

describe('isExportId', () => {
  it('accepts the UUIDs export ids are, and nothing else', () => {
    expect(isExportId('3f2b8c1e-9d4a-4e6f-8a7b-0c1d2e3f4a5b')).toBe(true);
    for (const id of ['', '..', '3f2b8c1e-9d4a-4e6f-8a7b-0c1d2e3f4a5b\u0000', '3f2b8c1e9d4a4e6f8a7b0c1d2e3f4a5b', 'a'.repeat(36), undefined, 42]) {
      expect(isExportId(id)).toBe(false);
    }
  });
});
