import { DecodeError, decodeJson, decodeYamlDocuments, DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../resources/decode.ts';
import { ApiError } from './api-errors.ts';

const JSON_TYPES = /^application\/(.+\+)?json\b/i;

/** The REST body limit also bounds what the decoder accepts. */
const limitsFor = (bytes: number | undefined): DecodeLimits => (bytes ? { ...DEFAULT_DECODE_LIMITS, maxBytes: bytes } : DEFAULT_DECODE_LIMITS);

function textOf(raw: unknown): string {
  return typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
}

/** A DecodeError as Kuma's 400, naming the field (`body` when the whole text is at fault). */
export function decodeFailure(err: DecodeError, what: string, field = 'body'): ApiError {
  const path = err.field === '' ? field : field === 'body' ? err.field : `${field}.${err.field}`;
  return new ApiError(400, 'Bad Request', `invalid ${what}: ${JSON.stringify(err.reason)}`, [{ field: path, reason: err.reason }]);
}

/**
 * Parses a request body as JSON or YAML through the hardened decoder (size, depth and
 * prototype keys bounded before and after the parser). JSON content types are parsed strictly
 * as JSON; YAML ones as YAML 1.2 (a superset of JSON). Errors name the type and the field, as
 * Kuma's "invalid <Type> object" does.
 */
export function parseBody(raw: unknown, contentType: string | undefined, typeName: string, maxBytes?: number): unknown {
  const text = textOf(raw);
  const what = `${typeName} object`;
  if (text.trim() === '') throw new ApiError(400, 'Bad Request', `invalid ${what}: "request body is empty"`, [{ field: 'body', reason: 'request body is empty' }]);
  try {
    if (contentType && JSON_TYPES.test(contentType)) return decodeJson(text, limitsFor(maxBytes));
    const docs = decodeYamlDocuments(text, limitsFor(maxBytes));
    if (docs.length === 0) throw new ApiError(400, 'Bad Request', `invalid ${what}: "request body is empty"`, [{ field: 'body', reason: 'request body is empty' }]);
    if (docs.length > 1) throw new DecodeError('', `expected one resource, got ${docs.length} YAML documents`);
    return docs[0];
  } catch (err) {
    if (err instanceof DecodeError) throw decodeFailure(err, what);
    throw err;
  }
}

/**
 * A JSON request body that is not a resource (`/_restore`, `/tokens/dataplane`): decoded
 * with the same bounds, answering 400 naming the field. An empty body is `{}`.
 */
export function parseJsonBody(raw: unknown, what: string, maxBytes?: number): unknown {
  const text = textOf(raw);
  if (text.trim() === '') return {};
  try {
    return decodeJson(text, limitsFor(maxBytes));
  } catch (err) {
    if (err instanceof DecodeError) throw decodeFailure(err, what);
    throw err;
  }
}
