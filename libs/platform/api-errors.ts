import type { FieldViolation } from '../resources/validation.ts';

/** An error answered with Kuma's REST error body (pkg/core/rest/errors). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly invalidParameters: readonly FieldViolation[] = [],
  ) {
    super(`${title}: ${detail}`);
  }
}

/** Kuma's error body: RFC 7807 fields plus the deprecated `details`/`causes` mirrors Kuma still sends. */
export function errorBody(e: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = { type: '/std-errors', status: e.status, title: e.title, detail: e.detail };
  if (e.invalidParameters.length > 0) {
    body['invalid_parameters'] = e.invalidParameters.map((p) => ({ field: p.field, reason: p.reason }));
  }
  body['details'] = e.detail;
  if (e.invalidParameters.length > 0) body['causes'] = e.invalidParameters.map((p) => ({ field: p.field, message: p.reason }));
  return body;
}

export const notFound = (title: string) => new ApiError(404, title, 'Not found');

export const meshNotFound = (mesh: string) =>
  new ApiError(404, 'Failed to retrieve Mesh', 'Not found', [{ field: 'mesh', reason: `mesh of name ${mesh} is not found` }]);

/** A list (or read) in a Mesh that does not exist: Kuma's crud table list_mesh_doesnt_exist_not_found. */
export const meshNotFoundForRead = () => new ApiError(404, 'Failed to retrieve Mesh', 'Not found');
