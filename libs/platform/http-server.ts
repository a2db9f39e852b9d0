import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';

/**
 * A Fastify instance logging through `logger.child({ component })`, without Fastify's
 * per-request info lines (servers log what matters themselves, at debug).
 */
export function createHttpServer(logger: Logger, component: string, opts: FastifyServerOptions = {}): FastifyInstance {
  return Fastify({
    ...opts,
    loggerInstance: logger.child({ component }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
}
