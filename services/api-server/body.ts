import { parseAllDocuments } from 'yaml';
import { ApiError } from './errors.ts';

const JSON_TYPES = /^application\/(.+\+)?json\b/i;

/**
 * Parses a request body as JSON or YAML. JSON content types are parsed strictly as JSON;
 * anything else as YAML 1.2 (a superset of JSON), with a bound on alias expansion.
 * Errors name the type and the position, as Kuma's "invalid <Type> object" does.
 */
export function parseBody(raw: unknown, contentType: string | undefined, typeName: string): unknown {
  const text = typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  if (text.trim() === '') throw new ApiError(400, 'Bad Request', `invalid ${typeName} object: "request body is empty"`);
  if (contentType && JSON_TYPES.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, 'Bad Request', `invalid ${typeName} object: ${JSON.stringify((err as Error).message)}`);
    }
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const nonEmpty = list.filter((d) => d.contents !== null || d.errors.length > 0);
  const first = nonEmpty[0];
  if (!first) throw new ApiError(400, 'Bad Request', `invalid ${typeName} object: "request body is empty"`);
  const errors = nonEmpty.flatMap((d) => d.errors);
  if (errors.length > 0) {
    throw new ApiError(400, 'Bad Request', `invalid ${typeName} object: ${JSON.stringify(errors[0]!.message.split('\n')[0])}`);
  }
  if (nonEmpty.length > 1) {
    throw new ApiError(400, 'Bad Request', `invalid ${typeName} object: "expected one resource, got ${nonEmpty.length} YAML documents"`);
  }
  return first.toJS({ maxAliasCount: 100 });
}
