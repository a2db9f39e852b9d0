import type { Logger } from 'pino';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import type { Fabric } from '../../libs/fabric/port.ts';
import type { KumaCpConfig, Role } from '../../libs/platform/config.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import type { Lifecycle } from '../../libs/platform/lifecycle.ts';
import type { Metrics } from '../../libs/platform/metrics.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import { policyPlugins } from '../../libs/policies/plugins.ts';
import { ReachableServices } from '../../libs/policies/meshtrafficpermission/index.ts';
import { FabricStores } from '../../libs/snapshot-store/fabric-stores.ts';
import type { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import { configJson } from '../../libs/inspect/config-json.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import type { ResourceService } from '../api-server/resource-service.ts';
import { startProjectorRole, type ProjectorRole } from '../projector/role.ts';
import { memberIdOf, PUSHING_THRESHOLD, startGatewayRole } from '../xds-gateway/role.ts';

export interface XdsRolesContext {
  readonly config: KumaCpConfig;
  readonly roles: readonly Role[];
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly lifecycle: Lifecycle;
  readonly registry: TypeRegistry;
  readonly projection: LiveProjection;
  readonly service: ResourceService;
  readonly tokens: DataplaneTokens;
  /** Called after each event the projection applies. */
  readonly followers: ((e: StoredEvent, state: CurrentState) => void)[];
  /**
   * The fabric the roles share (the NATS one when `fabric.type` is nats, whatever the log): the
   * roles then talk only through it, so they can run in separate processes. Without one, the
   * projector hands its snapshots to the gateway in this process.
   */
  readonly fabric?: Fabric;
}

export interface XdsRoles {
  readonly ports: { dpServer: number; dpServerPlaintext: number };
  /** A proxy's connection status (DataplaneInsight), for the API. */
  insightOf?(mesh: string, name: string): Record<string, unknown> | undefined;
  /** A proxy's computed configuration (`_config`), for the API. */
  configOf?(mesh: string, name: string): Promise<Record<string, Record<string, unknown>> | undefined>;
}

/**
 * Composes the projector and gateway roles this process runs (services/projector and
 * services/xds-gateway), over the fabric when there is one, else in memory.
 */
export async function startXdsRoles(ctx: XdsRolesContext): Promise<XdsRoles> {
  const { config, roles, logger, lifecycle, projection, fabric } = ctx;
  const projector = roles.includes('projector');
  const gateway = roles.includes('gateway');
  if ((!fabric || fabric.kind === 'memory') && projector !== gateway) {
    throw new Error('the projector and gateway roles can run in separate processes only over a NATS fabric (KUMA_FABRIC_TYPE=nats; the default with store.type nats): run both, or use the NATS fabric');
  }
  const result: { ports: XdsRoles['ports'] } & Omit<XdsRoles, 'ports'> = { ports: { dpServer: 0, dpServerPlaintext: 0 } };
  if (!projector && !gateway && !fabric) return result;
  const xdsMetrics = new XdsMetrics(ctx.metrics.registry);
  const memberId = memberIdOf(ctx.instanceId);

  let stores: FabricStores | undefined;
  if (fabric) {
    const s = (stores = await FabricStores.open(
      fabric,
      {
        namespace: config.store.nats.stream,
        replicas: config.store.nats.replicas,
        contentRewriteAfterMs: (parseDuration(config.store.nats.contentGcGrace) * 1000) / 4,
        statusFlushMs: parseDuration(config.xdsServer.dataplaneStatusFlushInterval) * 1000,
        deferStatusWhile: () => xdsMetrics.awaitingAck > PUSHING_THRESHOLD,
      },
      logger,
    ));
    // API servers answer inspect from a mirror; a gateway reads a proxy's status only when it needs it.
    if (roles.includes('api')) await s.status.startMirror();
    lifecycle.onShutdown('status board', () => s.close());
    result.configOf = (mesh, name) => s.configOf(mesh, name);
    result.insightOf = (mesh, name) => s.status.get(`${mesh}.${name}`);
  }

  let projectorRole: ProjectorRole | undefined;
  if (projector) {
    projectorRole = await startProjectorRole({
      memberId,
      logger,
      lifecycle,
      metrics: xdsMetrics,
      generator: {
        debounceMs: parseDuration(config.xdsServer.debounce) * 1000,
        plugins: policyPlugins(),
        policyTypes: ctx.registry.policyTypeNames(),
        ...(config.experimental.autoReachableServices ? { outboundTrim: new ReachableServices() } : {}),
      },
      state: () => projection.state,
      follow: (fn) => ctx.followers.push(fn),
      ...(stores
        ? { fabric: stores, contentGc: { intervalMs: parseDuration(config.store.nats.contentGcInterval) * 1000, graceMs: parseDuration(config.store.nats.contentGcGrace) * 1000 } }
        : {}),
    });
    if (!stores) {
      const gen = projectorRole.generator;
      result.configOf = async (mesh, name) => {
        const s = gen.generate(`${mesh}.${name}`);
        return s ? configJson(s) : undefined;
      };
    }
  }

  if (gateway) {
    const dataplane = ctx.registry.get('Dataplane');
    const gw = await startGatewayRole({
      config,
      instanceId: ctx.instanceId,
      memberId,
      logger,
      lifecycle,
      metrics: xdsMetrics,
      registry: ctx.registry,
      state: () => projection.state,
      tokens: ctx.tokens,
      writer: {
        upsert: async (input, actor) => void (await ctx.service.upsert(dataplane, input, actor)),
        delete: (ref, actor, expectedVersion) => ctx.service.delete(ref, actor, expectedVersion),
      },
      snapshots: stores ? { fabric: stores } : { local: projectorRole!.cache! },
    });
    result.ports = { ...gw.ports };
    if (gw.insightOf) result.insightOf = gw.insightOf;
  }
  return result;
}
