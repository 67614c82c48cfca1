import { ExportException } from 'nestjs-data-export';

/** The refusal's `code`, or `'ok'` when the call succeeds; other errors are rethrown. */
export async function refusalCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    if (err instanceof ExportException) return err.code;
    throw err;
  }
}
