import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../libs/platform/http-server.ts';
import type { Logger } from 'pino';
import type { Metrics } from '../../libs/platform/metrics.ts';

/** `GET /ready` (200 once every component of this process is ready) and `GET /metrics`. */
export function buildDiagnosticsServer(metrics: Metrics, isReady: () => boolean, logger: Logger): FastifyInstance {
  const app = createHttpServer(logger, 'diagnostics');
  app.get('/ready', async (_req, reply) => (isReady() ? reply.send('ok') : reply.code(503).send('not ready')));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}
