import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import { InstrumentedEventLog } from '../../libs/event-log/instrumented.ts';
import type { EventLog } from '../../libs/event-log/port.ts';
import { checkApiExposure, fabricTypeOf, isLoopbackInterface, type KumaCpConfig, type Role } from '../../libs/platform/config.ts';
import type { Fabric } from '../../libs/fabric/port.ts';
import { MemoryFabric } from '../../libs/fabric/memory.ts';
import { NatsFabric } from '../../libs/fabric/nats.ts';
import { loadOrCreateTls } from '../xds-gateway/tls.ts';
import { Lifecycle } from '../../libs/platform/lifecycle.ts';
import { Metrics } from '../../libs/platform/metrics.ts';
import { CurrentState } from '../../libs/projection/current-state.ts';
import { LiveProjection } from '../../libs/projection/live-projection.ts';
import { Checkpointer, loadLatestCheckpoint } from '../../libs/projection/checkpointer.ts';
import { PostgresEventLog } from '../../libs/event-log/postgres.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import { postgresAddresses, postgresPoolConfig, type PostgresAddresses } from '../../libs/event-log/postgres-connection.ts';
import { LEASE_KEYS, PostgresLease } from '../../libs/event-log/postgres-lease.ts';
import { StateHistory } from '../../libs/projection/time-travel.ts';
import { meshCaSecrets } from '../../libs/ca/mesh-ca-resources.ts';
import { MESH_IDENTITY, MESH_TRUST } from '../../libs/ca/mesh-identity.ts';
import { identityResource, meshIdentityCompanions, meshIdentityDependents } from '../../libs/ca/mesh-identity-resources.ts';
import { kriOf } from '../../libs/resources/kri.ts';
import { secretData } from '../../libs/resources/secret.ts';
import { defaultPoliciesFor } from '../../libs/policies/defaults.ts';
import { policyPlugins } from '../../libs/policies/plugins.ts';
import { ReachableServices } from '../../libs/policies/meshtrafficpermission/index.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import { UserTokens } from '../../libs/tokens/user-token.ts';
import { staticAccessControl, type AccessControl, type StaticAccess } from '../api-server/access.ts';
import { rbacAccessControl } from '../api-server/rbac.ts';
import { ResourceService, type MeshInitialResources } from '../api-server/resource-service.ts';
import { noApiAuthentication, TokenApiAuthenticator } from '../api-server/authn.ts';
import { buildApiServer, type ApiServerDeps } from '../api-server/server.ts';
import { addTokenRoutes, addUserTokenRoute } from '../api-server/tokens-route.ts';
import { ensureAdminUserToken, ensureDefaultMesh, ensureRbacDefaults, ensureSigningKey, ensureUserTokenSigningKey } from './cluster-defaults.ts';
import { buildDiagnosticsServer } from './diagnostics.ts';
import { openCheckpointStore, openEventLog } from './store.ts';
import { KUBERNETES_READ_ONLY, kubernetesMode } from './kubernetes-mode.ts';
import { openStoreEncryption } from './store-encryption.ts';
import { EncryptingEventLog } from '../../libs/secrets/encrypting-log.ts';
import { SealingCheckpointStore } from '../../libs/secrets/sealing-checkpoints.ts';
import { SecretDecryptionError } from '../../libs/secrets/sealer.ts';
import { startXdsRoles } from './xds-roles.ts';
import { connectNats, JetStreamEventLog } from '../../libs/event-log/jetstream.ts';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x !== '');
/** Kuma's static access from the configuration. */
function staticAccess(config: KumaCpConfig): StaticAccess {
  const rule = (r: { users: string; groups: string }) => ({ users: list(r.users), groups: list(r.groups) });
  const s = config.access.static;
  return { adminResources: rule(s.adminResources), generateDpToken: rule(s.generateDpToken), generateUserToken: rule(s.generateUserToken) };
}

export interface ControlPlane {
  readonly instanceId: string;
  readonly log: EventLog;
  readonly projection: LiveProjection;
  readonly lifecycle: Lifecycle;
  /** Ports actually bound (0 = not served). */
  readonly ports: { api: number; apiHttps: number; dpServer: number; dpServerPlaintext: number };
  shutdown(): Promise<void>;
}

async function listen(app: FastifyInstance, port: number, host: string, what: string, logger: Logger): Promise<number> {
  try {
    await app.listen({ port, host });
  } catch (err) {
    throw new Error(`cannot listen for ${what} on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  logger.info({ component: 'kuma-cp', address: `${host}:${bound}` }, `${what} listening`);
  return bound;
}

/** Starts the roles of one kuma-cp process. Resolves once the process is ready. */
export async function startControlPlane(
  config: KumaCpConfig,
  roles: readonly Role[],
  logger: Logger,
  /** Called once the process has shut itself down after an error it cannot serve through (the owner exits non-zero). */
  onFatal: (err: Error) => void = () => (process.exitCode = 1),
): Promise<ControlPlane> {
  const instanceId = `${hostname()}-${randomUUID().slice(0, 4)}`;
  const lifecycle = new Lifecycle(logger);
  const metrics = new Metrics();
  const ports = { api: 0, apiHttps: 0, dpServer: 0, dpServerPlaintext: 0 };
  let ready = false;
  let projectionStarted = false;
  const authnEnabled = config.apiServer.authn.type === 'tokens';
  if (roles.includes('api') && checkApiExposure(config, authnEnabled) === 'unauthenticated') {
    logger.warn(
      { component: 'kuma-cp', interface: config.apiServer.http.interface },
      'the API listens beyond loopback WITHOUT authentication (apiServer.http.allowUnauthenticatedNonLoopback): anyone who reaches it can change the mesh',
    );
  }
  try {
    const diagnostics = buildDiagnosticsServer(metrics, () => ready, logger);
    await listen(diagnostics, config.diagnostics.serverPort, config.diagnostics.interface, 'diagnostics', logger);
    lifecycle.onShutdown('diagnostics', () => diagnostics.close());

    const registry = fullRegistry();
    const encryption = openStoreEncryption(config, registry, logger);
    const raw = await openEventLog(config, instanceId);
    // An event that does not decrypt stops the process: before ready it fails the start,
    // afterwards it shuts down (the projection stops at it, so nothing wrong is served).
    let failStart: (err: Error) => void = () => undefined;
    const startFailed = new Promise<never>((_, reject) => (failStart = reject));
    startFailed.catch(() => undefined);
    const onUndecryptable = (err: Error) => {
      const e = encryption.explain(err);
      if (!projectionStarted) return failStart(e);
      logger.fatal({ component: 'store-encryption', err: e }, 'stopping: the log holds a secret this process cannot decrypt');
      void lifecycle.shutdown().finally(() => onFatal(e));
    };
    const encrypted = new EncryptingEventLog(raw, encryption.sealer, onUndecryptable);
    const log = new InstrumentedEventLog(encrypted, (outcome, s) => metrics.logAppendDuration.observe({ store: raw.kind, outcome }, s));
    lifecycle.onShutdown('event log', () => log.close());
    logger.info({ component: 'event-log', store: raw.kind }, 'event log open');

    const started = Date.now();
    const checkpoints = new SealingCheckpointStore(await openCheckpointStore(config, raw), encryption.sealer);
    lifecycle.onShutdown('checkpoint store', () => checkpoints.close());
    const restored = await loadLatestCheckpoint(checkpoints, log, logger).catch((err: Error) => {
      throw err instanceof SecretDecryptionError ? encryption.explain(err) : err;
    });
    let clusterId = restored?.meta.clusterId ?? '';
    const checkpointer = new Checkpointer(
      checkpoints,
      config.store.checkpoints,
      () => clusterId,
      logger,
      {
        onSaved: (meta, seconds) => {
          metrics.checkpointSaves.inc({ outcome: 'ok' });
          metrics.checkpointSaveDuration.observe(seconds);
          metrics.checkpointPosition.set(meta.seq);
        },
        onFailed: () => metrics.checkpointSaves.inc({ outcome: 'error' }),
      },
      restored?.meta.seq ?? 0,
      { active: false },
    );
    const followers: ((e: StoredEvent, state: CurrentState) => void)[] = [];
    // A gateway alone (over the NATS fabric) follows and keeps only what it reads: proxies'
    // Dataplanes, Meshes, token keys and revocations, CA secrets and identities. The log filters
    // the rest out where it is stored, so its memory and CPU do not grow with policies.
    const state = restored?.state ?? new CurrentState();
    const gatewayOnly = roles.includes('gateway') && !roles.includes('api') && !roles.includes('projector');
    if (gatewayOnly) state.retain(GATEWAY_TYPES);
    const projection = new LiveProjection(log, state, {
      onApplied: (e, state) => {
        if (clusterId === '') clusterId = e.id;
        metrics.projectionPosition.set({ projection: 'current-state' }, e.seq);
        metrics.projectionEvents.inc({ projection: 'current-state' });
        metrics.projectionResources.set({ projection: 'current-state' }, state.count());
        checkpointer.onApplied(state);
        for (const f of followers) f(e, state);
      },
    }, gatewayOnly ? { types: [...GATEWAY_TYPES] } : {});
    await Promise.race([projection.start(), startFailed]);
    projectionStarted = true;
    // Every role reads checkpoints to start fast; only API processes write them, so projectors
    // and gateways spend no CPU on it (in one process the api role is there too).
    const writesCheckpoints = roles.includes('api');
    // Replicas sharing a PostgreSQL database hold the singletons one at a time (see PostgresLease).
    const lease = writesCheckpoints && raw instanceof PostgresEventLog ? singletonLease(config, await postgresAddresses(config.store.postgres), raw, projection, checkpointer, metrics, logger) : undefined;
    if (lease) lease.start();
    else if (writesCheckpoints) checkpointer.activate(projection.state);
    lifecycle.onShutdown('projection', async () => {
      await projection.stop();
      if (writesCheckpoints) await checkpointer.flush(projection.state);
      await lease?.stop();
    });
    logger.info(
      {
        component: 'projection',
        position: projection.state.position,
        fromCheckpoint: restored?.meta.seq ?? null,
        resources: projection.state.count(),
        ms: Date.now() - started,
      },
      'projection caught up with the log',
    );
    metrics.projectionLag.set({ projection: 'current-state' }, 0);
    const lagTimer = setInterval(() => {
      projection
        .refreshHead()
        .then(() => metrics.projectionLag.set({ projection: 'current-state' }, projection.lag))
        .catch(() => undefined);
    }, 5000);
    lagTimer.unref();
    lifecycle.onShutdown('lag probe', async () => clearInterval(lagTimer));

    const meshInitialResources: MeshInitialResources = (mesh, spec) =>
      defaultPoliciesFor(mesh, spec).map((p) => ({ d: registry.get(p.type), input: { type: p.type, mesh: p.mesh, name: p.name, labels: {}, spec: p.spec } }));
    const service = new ResourceService(log, projection, {
      zone: config.multizone.zone.name,
      unsafeDelete: config.store.unsafeDelete,
      meshInitialResources,
      companions: async (d, input) => {
        const mesh = d.name === 'Mesh' ? input.name : (input.mesh ?? '');
        const secret = (name: string) => secretData(projection.state.get({ type: 'Secret', mesh, name }));
        const asSecret = (s: { name: string; data: string }) => ({ d: registry.get('Secret'), input: { type: 'Secret', mesh, name: s.name, labels: {}, spec: { data: s.data } } });
        if (d.name === 'Mesh') return (await meshCaSecrets(mesh, input.spec, secret)).map(asSecret);
        if (d.name !== MESH_IDENTITY) return [];
        const mi = identityResource(input);
        const existing = projection.state.get({ type: MESH_TRUST, mesh, name: input.name });
        const { secrets, trust } = await meshIdentityCompanions(mi, config.multizone.zone.name, secret, kriOf(mi.meta, d)!, existing);
        return [...secrets.map(asSecret), ...(trust ? [{ d: registry.get(MESH_TRUST), input: { type: MESH_TRUST, mesh, name: trust.name, labels: {}, spec: trust.spec } }] : [])];
      },
      dependents: (key) => {
        if (key.type !== MESH_IDENTITY || key.mesh === undefined) return [];
        const mi = projection.state.get(key);
        return mi ? meshIdentityDependents(mi, kriOf(mi.meta, registry.get(MESH_IDENTITY))!, projection.state.get({ type: MESH_TRUST, mesh: key.mesh, name: key.name })) : [];
      },
    });
    const globalSecret = (name: string) => secretData(projection.state.get({ type: 'GlobalSecret', name }));
    const userTokens = new UserTokens(globalSecret);
    const tokens = new DataplaneTokens(globalSecret, () =>
      projection.state
        .list('GlobalSecret')
        .map((r) => /^dataplane-token-signing-key-(\d+)$/.exec(r.meta.name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number),
    );
    // Kubernetes mode: the cluster's custom resources feed the log, and Pods get Dataplanes.
    const kubernetes = config.store.type === 'kubernetes' && roles.includes('api') ? kubernetesMode(config, log, registry, logger, lifecycle) : undefined;
    if (roles.includes('api')) {
      if (kubernetes) await kubernetes.start();
      else if (!config.defaults.skipMeshCreation) await ensureDefaultMesh(log, projection, logger, meshInitialResources);
      await ensureSigningKey(log, projection, logger);
      if (config.access.type === 'rbac') await ensureRbacDefaults(log, projection, logger);
      if (authnEnabled) {
        await ensureUserTokenSigningKey(log, projection, logger);
        await ensureAdminUserToken(log, projection, logger, userTokens, config.general.workDir);
      }
    }

    // The fabric the xDS roles share: the JetStream log's own connection, or one of its own beside another store.
    let fabric: Fabric | undefined;
    if (fabricTypeOf(config) === 'memory') {
      fabric = new MemoryFabric();
      logger.info({ component: 'fabric', type: 'memory' }, 'xDS roles share state over the in-memory fabric (one process)');
    } else if (fabricTypeOf(config) === 'nats') {
      const url = config.fabric.nats.url || config.store.nats.url;
      if (raw instanceof JetStreamEventLog && url === config.store.nats.url) fabric = new NatsFabric(raw.nc);
      else {
        const nc = await connectNats(url, `kuma-cp ${instanceId} fabric`);
        lifecycle.onShutdown('fabric', () => nc.drain());
        fabric = new NatsFabric(nc);
      }
      logger.info({ component: 'fabric', type: 'nats', url }, 'xDS roles share state over NATS');
    }
    const xds = await startXdsRoles({
      config,
      roles,
      instanceId,
      logger,
      metrics,
      lifecycle,
      registry,
      projection,
      service,
      tokens,
      followers,
      ...(fabric ? { fabric } : {}),
    });
    ports.dpServer = xds.ports.dpServer;
    ports.dpServerPlaintext = xds.ports.dpServerPlaintext;

    if (roles.includes('api')) {
      const access: AccessControl =
        config.access.type === 'rbac'
          ? rbacAccessControl({ roles: () => projection.state.list('AccessRole'), bindings: () => projection.state.list('AccessRoleBinding') })
          : staticAccessControl(staticAccess(config));
      const apiDeps: ApiServerDeps = {
        registry,
        projection,
        service,
        logger,
        metrics,
        bodyLimit: config.apiServer.bodyLimit,
        readOnly: config.apiServer.readOnly || config.store.type === 'kubernetes',
        ...(config.store.type === 'kubernetes' ? { readOnlyReason: KUBERNETES_READ_ONLY } : {}),
        instanceId,
        clusterId: () => clusterId,
        ...(xds.insightOf ? { insightOf: xds.insightOf } : {}),
        ...(xds.configOf ? { configOf: xds.configOf } : {}),
        plugins: policyPlugins(),
        ...(config.experimental.autoReachableServices ? { outboundTrim: new ReachableServices() } : {}),
        history: (key) => log.history(key),
        audit: { log, history: new StateHistory(log, checkpoints, () => projection.state), checkpoints },
        redactor: encryption.redactor,
        extraRoutes: (app) => {
          addTokenRoutes(app, tokens, projection.state, access);
          if (authnEnabled) addUserTokenRoute(app, userTokens);
        },
        exposure: {
          boundInterface: config.apiServer.http.interface,
          allowedHosts: config.apiServer.http.allowedHosts.split(',').map((h) => h.trim()).filter((h) => h !== ''),
        },
        authenticator: authnEnabled ? new TokenApiAuthenticator(userTokens, { localhostIsAdmin: config.apiServer.authn.localhostIsAdmin, logger }) : noApiAuthentication,
        access,
      };
      const api = buildApiServer(apiDeps);
      if (config.apiServer.http.enabled) {
        ports.api = await listen(api, config.apiServer.http.port, config.apiServer.http.interface, 'API server (HTTP)', logger);
      } else await api.ready();
      // The same API over TLS (5682). Beyond loopback only with user authentication.
      const https = config.apiServer.https;
      if (https.enabled && !authnEnabled && !isLoopbackInterface(https.interface)) {
        logger.warn({ component: 'kuma-cp', interface: https.interface }, 'the HTTPS API is not started: without user authentication it may listen on loopback only (apiServer.https.interface)');
      } else if (https.enabled) {
        const tls = await loadOrCreateTls({
          certFile: https.tlsCertFile || config.general.tlsCertFile,
          keyFile: https.tlsKeyFile || config.general.tlsKeyFile,
          workDir: config.general.workDir,
          logger,
          config,
        });
        const secure = buildApiServer({ ...apiDeps, https: tls, exposure: { boundInterface: https.interface, allowedHosts: apiDeps.exposure?.allowedHosts ?? [] } });
        ports.apiHttps = await listen(secure, https.port, https.interface, 'API server (HTTPS)', logger);
        lifecycle.onShutdown('API server (HTTPS)', () => secure.close());
      }
      // Registered last, so it closes first: stop taking requests, let in-flight ones finish.
      lifecycle.onShutdown('API server', () => api.close());
    }
    ready = true;
    logger.info({ component: 'kuma-cp', instanceId, roles }, 'control plane ready');
    return { instanceId, log, projection, lifecycle, ports, shutdown: () => lifecycle.shutdown() };
  } catch (err) {
    await lifecycle.shutdown();
    throw err;
  }
}

/**
 * The singletons of replicas on one PostgreSQL database: checkpoint writing and retention
 * (store.postgres.maxAge), run by whichever replica holds the lease.
 */
function singletonLease(config: KumaCpConfig, dial: PostgresAddresses, log: PostgresEventLog, projection: LiveProjection, checkpointer: Checkpointer, metrics: Metrics, logger: Logger): PostgresLease {
  const maxAgeMs = parseDuration(config.store.postgres.maxAge) * 1000;
  let retention: NodeJS.Timeout | undefined;
  const applyRetention = () => {
    const before = new Date(Date.now() - maxAgeMs).toISOString();
    log
      .removeOlderThan(before, { keepUncheckpointed: true })
      .then((removed) => removed > 0 && logger.info({ component: 'retention', removed, before }, 'removed events past store.postgres.maxAge'))
      .catch((err: Error) => logger.warn({ component: 'retention', err: err.message }, 'retention failed; will retry'));
  };
  return new PostgresLease({ ...postgresPoolConfig(config.store.postgres, 'kuma-cp lease', dial), keepAlive: true }, LEASE_KEYS.singletons, {
    onAcquired: () => {
      metrics.singletonLease.set(1);
      logger.info({ component: 'lease' }, 'this replica holds the singleton lease: it writes checkpoints and applies retention');
      checkpointer.activate(projection.state);
      if (maxAgeMs > 0) {
        applyRetention();
        retention = setInterval(applyRetention, Math.min(maxAgeMs / 10, 3_600_000));
        retention.unref();
      }
    },
    onLost: () => {
      metrics.singletonLease.set(0);
      logger.warn({ component: 'lease' }, 'lost the singleton lease (its database connection failed); another replica may take it');
      checkpointer.deactivate();
      if (retention) clearInterval(retention);
    },
  });
}

/** What a process that runs only the gateway role keeps of the log's state (see CurrentState.retain). */
const GATEWAY_TYPES: ReadonlySet<string> = new Set(['Mesh', 'Dataplane', 'Secret', 'GlobalSecret', MESH_IDENTITY, MESH_TRUST]);
