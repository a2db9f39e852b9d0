import type { FastifyRequest } from 'fastify';
import { pathIdentifierError } from '../../libs/resources/names.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';

/**
 * Kuma rejects a `mesh` or `name` path parameter outside its character set (a NUL byte, an
 * upper-case letter) with 400 before any lookup (crud table path_param_nul_byte), rather than
 * answering 404 for a name that cannot exist.
 */
export function checkPathParams(req: FastifyRequest): void {
  const params = req.params as Record<string, unknown> | undefined;
  if (!params) return;
  const violations: { field: string; reason: string }[] = [];
  for (const field of ['mesh', 'name'] as const) {
    const value = params[field];
    if (typeof value !== 'string') continue;
    const reason = pathIdentifierError(value);
    if (reason !== undefined) violations.push({ field, reason });
  }
  if (violations.length > 0) throw new ApiError(400, 'Bad Request', 'Resource is not valid', violations);
}
