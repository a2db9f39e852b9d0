import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { createHttpServer } from '../../libs/platform/http-server.ts';
import { DecodeError, decodeJson, DEFAULT_DECODE_LIMITS } from '../../libs/resources/decode.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import { SERVICE_TAG } from '../../libs/resources/tags.ts';
import { isObject, type JsonObject } from '../../libs/resources/validation.ts';
import { decodeFailure } from '../../libs/platform/request-body.ts';
import { ApiError, errorBody } from '../../libs/platform/api-errors.ts';
import { addAdsService, createGrpcServer } from './ads-server.ts';
import { IssueError, type WorkloadIssuer } from '../../libs/ca/issuer.ts';
import { envoyBootstrap } from './bootstrap.ts';
import { DpServer, type DpServerLimits, type TlsMaterial } from './dp-server.ts';
import type { InvalidNodeIdError} from './proxy-id.ts';
import { parseNodeId, proxyKey, type ProxyId } from './proxy-id.ts';
import { dataplaneFromNode } from './registration.ts';
import { AuthenticationError, type StreamDeps } from './stream.ts';
import { peerOf } from './unauthenticated.ts';

export interface GatewayOptions {
  readonly tlsPort: number;
  readonly tlsInterface: string;
  /** 0 = off; always 127.0.0.1. */
  readonly plaintextPort: number;
  readonly tls: TlsMaterial;
  /** Bounds on connections and streams that have not authenticated yet. */
  readonly limits: DpServerLimits;
}

export interface GatewayDeps extends StreamDeps {
  readonly registry: TypeRegistry;
  /** The Dataplane's spec if it exists (the bootstrap needs its service). */
  readonly dataplane: (proxy: ProxyId) => JsonObject | undefined;
  /** The stored Dataplane's labels (which MeshIdentity selects it). */
  readonly dataplaneLabels?: (proxy: ProxyId) => Readonly<Record<string, string>> | undefined;
  /** Signs workload certificates (`POST /certificates`); absent: the endpoint answers 404. */
  readonly issuer?: WorkloadIssuer;
}

function firstService(spec: JsonObject | undefined): string {
  const net = spec?.['networking'];
  if (!isObject(net)) return '';
  const inbound = Array.isArray(net['inbound']) ? net['inbound'][0] : undefined;
  const gw = net['gateway'];
  const tags = isObject(inbound) ? inbound['tags'] : isObject(gw) ? gw['tags'] : undefined;
  return isObject(tags) ? String(tags[SERVICE_TAG] ?? '') : '';
}

const BOOTSTRAP_BODY_LIMIT = 1024 * 1024;

/** `POST /bootstrap` (Kuma's request shape): an Envoy bootstrap pointing at this server over TLS. */
function bootstrapApp(deps: GatewayDeps, opts: GatewayOptions, logger: Logger, authenticated: (peer: string) => void): FastifyInstance {
  const app = createHttpServer(logger, 'dp-server', { bodyLimit: BOOTSTRAP_BODY_LIMIT });
  // The request itself goes through the hardened decoder too (depth, size, prototype keys).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/(.+\+)?json\b/i, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, decodeJson(String(body), { ...DEFAULT_DECODE_LIMITS, maxBytes: BOOTSTRAP_BODY_LIMIT }));
    } catch (err) {
      done(err instanceof DecodeError ? decodeFailure(err, 'bootstrap request') : (err as Error), undefined);
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const e = err instanceof ApiError ? err : new ApiError(err.statusCode && err.statusCode < 500 ? err.statusCode : 500, 'Bad Request', err.message);
    void reply.code(e.status).send(errorBody(e));
  });
  /**
   * Identifies and authenticates the proxy a request speaks for, from plain string fields
   * first; only then is the Dataplane the client sent parsed (with the hardened decoder).
   */
  const identify = async (req: FastifyRequest, what: string, fields: readonly string[]): Promise<{ proxy: ProxyId; body: JsonObject; resource: JsonObject | undefined }> => {
    const body = (isObject(req.body) ? req.body : {}) as JsonObject;
    const violations: { field: string; reason: string }[] = [];
    for (const field of ['mesh', 'name'] as const) {
      if (typeof body[field] !== 'string' || body[field] === '') violations.push({ field, reason: 'is required: a non-empty string' });
    }
    for (const field of ['dataplaneToken', 'dataplaneResource', ...fields]) {
      if (body[field] !== undefined && typeof body[field] !== 'string') violations.push({ field, reason: 'must be a string' });
    }
    if (violations.length > 0) throw new ApiError(400, 'Bad Request', `invalid ${what} request`, violations);
    let proxy: ProxyId;
    try {
      proxy = parseNodeId(`${String(body['mesh'])}.${String(body['name'])}`);
    } catch (err) {
      throw new ApiError(400, 'Bad Request', (err as InvalidNodeIdError).message, [{ field: 'name', reason: (err as Error).message }]);
    }
    const token = typeof body['dataplaneToken'] === 'string' && body['dataplaneToken'] !== '' ? body['dataplaneToken'] : undefined;
    const rawResource = typeof body['dataplaneResource'] === 'string' && body['dataplaneResource'] !== '' ? body['dataplaneResource'] : undefined;
    const node = { id: proxyKey(proxy), metadata: rawResource !== undefined ? { 'dataplane.resource': rawResource } : {} };
    let resource: JsonObject | undefined;
    try {
      await deps.authenticate(proxy, token, node);
      authenticated(peerOf(req.socket));
      const input = dataplaneFromNode(node, deps.registry, proxy);
      if (input) resource = { type: input.type, mesh: input.mesh, name: input.name, ...(Object.keys(input.labels).length > 0 ? { labels: input.labels } : {}), ...input.spec };
    } catch (err) {
      if (err instanceof AuthenticationError) {
        logger.warn({ component: 'dp-server', proxy: proxyKey(proxy), request: what, reason: err.message }, 'request refused: not authenticated');
        throw new ApiError(401, 'Unauthenticated', err.message);
      }
      throw err;
    }
    return { proxy, body, resource };
  };

  /** The Dataplane a certificate request is for: the one sent, else the stored one with its labels (a MeshIdentity selects by them). */
  const certificateSubject = (proxy: ProxyId, resource: JsonObject | undefined): JsonObject | undefined => {
    if (resource) return resource;
    const stored = deps.dataplane(proxy);
    return stored && { ...stored, labels: deps.dataplaneLabels?.(proxy) ?? {} };
  };

  /**
   * `POST /certificates` (ours; Kuma sends keys over SDS instead): a workload certificate for the
   * CSR in `csr`, for the Dataplane the token entitles (the one sent, else the stored one). The
   * private key stays with kuma-dp.
   */
  app.post('/certificates', async (req) => {
    if (!deps.issuer) throw new ApiError(404, 'Not Found', 'this control plane does not issue certificates');
    const { proxy, body, resource } = await identify(req, 'certificate', ['csr']);
    if (typeof body['csr'] !== 'string' || body['csr'] === '') throw new ApiError(400, 'Bad Request', 'invalid certificate request', [{ field: 'csr', reason: 'is required: a PEM-encoded PKCS#10 request' }]);
    const dataplane = certificateSubject(proxy, resource);
    if (!dataplane) throw new ApiError(422, 'Unprocessable Entity', 'Dataplane entity not found: create it, or send it as dataplaneResource');
    try {
      const issued = await deps.issuer.issue(proxy.mesh, dataplane, body['csr']);
      logger.info({ component: 'ca', proxy: proxyKey(proxy), backend: issued.backend, notAfter: issued.notAfter }, 'issued a workload certificate');
      return issued;
    } catch (err) {
      if (!(err instanceof IssueError)) throw err;
      logger.warn({ component: 'ca', proxy: proxyKey(proxy), reason: err.message }, 'certificate not issued');
      throw new ApiError(err.status, err.title, err.message, err.field ? [{ field: err.field, reason: err.message }] : undefined);
    }
  });

  /** `POST /certificates/trust` (ours): the mesh's CA bundle and signing backend now, for the proxy the token entitles. */
  app.post('/certificates/trust', async (req) => {
    if (!deps.issuer) throw new ApiError(404, 'Not Found', 'this control plane does not issue certificates');
    const { proxy, resource } = await identify(req, 'trust', []);
    try {
      return deps.issuer.trust(proxy.mesh, certificateSubject(proxy, resource));
    } catch (err) {
      if (!(err instanceof IssueError)) throw err;
      throw new ApiError(err.status, err.title, err.message);
    }
  });

  app.post('/bootstrap', async (req) => {
    const { proxy, body, resource } = await identify(req, 'bootstrap', ['caCert']);
    const r = resource ?? {};
    const existing = deps.dataplane(proxy);
    if (resource === undefined && !existing) {
      throw new ApiError(
        422,
        'Unprocessable Entity',
        'Dataplane entity not found. If you are running on Universal please create a Dataplane entity on kuma-cp before starting kuma-dp or pass it to kuma-dp run --dataplane-file=/file',
      );
    }
    const host = req.hostname.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return {
      bootstrap: envoyBootstrap({
        proxyKey: proxyKey(proxy),
        service: firstService(isObject(resource) ? resource : existing),
        xdsHost: host,
        xdsPort: opts.tlsPort,
        caCert: typeof body['caCert'] === 'string' && body['caCert'] !== '' ? body['caCert'] : opts.tls.cert,
        ...(typeof body['dataplaneToken'] === 'string' && body['dataplaneToken'] ? { token: body['dataplaneToken'] } : {}),
        adminPort: Number(body['adminPort'] || 9901),
        ...(resource !== undefined ? { dataplaneResource: JSON.stringify(resource) } : {}),
        ...(isObject(body['version']) ? { version: body['version'] } : {}),
      }),
      kumaSidecarConfiguration: { networking: { isUsingTransparentProxy: isObject((isObject(r['networking']) ? r['networking'] : {})['transparentProxying']) } },
    };
  });
  return app;
}

/** The gateway role: ADS (SotW + delta) and the bootstrap endpoint on the data plane server port. */
export async function startGateway(deps: GatewayDeps, opts: GatewayOptions, logger: Logger): Promise<{ tlsPort: number; plaintextPort: number; close(): Promise<void> }> {
  const grpcServer = createGrpcServer();
  // The server is built from the handlers below, which tell it when a connection authenticated.
  const built: { dp?: DpServer } = {};
  const authenticated = (peer: string) => built.dp?.authenticated(peer);
  addAdsService(grpcServer, { ...deps, firstRequestTimeoutMs: opts.limits.unauthenticated.timeoutMs, onAuthenticated: authenticated });
  const http = bootstrapApp(deps, opts, logger, authenticated);
  await http.ready();
  const dp = (built.dp = new DpServer(grpcServer, http.server, logger, opts.limits));
  const tlsPort = await dp.listenTls(opts.tlsPort, opts.tlsInterface, opts.tls);
  logger.info({ component: 'dp-server', address: `${opts.tlsInterface}:${tlsPort}` }, 'data plane server (ADS over TLS, bootstrap) listening');
  let plaintextPort = 0;
  if (opts.plaintextPort > 0) {
    plaintextPort = await dp.listenPlaintext(opts.plaintextPort);
    logger.warn({ component: 'dp-server', address: `127.0.0.1:${plaintextPort}` }, 'data plane server listening WITHOUT TLS on loopback');
  }
  return {
    tlsPort,
    plaintextPort,
    close: async () => {
      await dp.close();
      grpcServer.forceShutdown();
      await http.close();
    },
  };
}
