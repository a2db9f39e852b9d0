import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { Registry } from 'prom-client';
import { SnapshotCache } from '../../libs/xds/snapshot-cache.ts';
import type { Snapshot } from '../../libs/xds/snapshot.ts';
import { addAdsService, createGrpcServer } from '../../services/xds-gateway/ads-server.ts';
import { ByNameBudget } from '../../services/xds-gateway/by-name-budget.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import { StreamStatusRegistry } from '../../services/xds-gateway/status.ts';

/** Per type URL short name (as in DataplaneInsight): responses sent, acknowledged, rejected, and the last NACK. */
interface TypeStatus {
  responsesSent: number;
  responsesAcknowledged: number;
  responsesRejected: number;
  lastNack?: { error: string };
}

/**
 * The project's real ADS service (SotW and delta streams of services/xds-gateway) over a real
 * grpc-js server on loopback, serving fixed snapshots built in the test: what a policy plugin
 * produced, handed to real xDS clients (@grpc/grpc-js-xds) without the rest of the control
 * plane. No authentication (proxy identity comes from the node id `<mesh>.<name>`).
 */
export class InProcessAds {
  private readonly snapshots = new Map<string, Snapshot>();
  /** What the streams are served from; tests may also move slots through it (`setShared`). */
  readonly cache = new SnapshotCache({ onFirstWatch: (key) => this.cache.set(key, this.snapshots.get(key) ?? this.snapshotOf?.(key)) });
  readonly status = new StreamStatusRegistry();

  private constructor(
    private readonly server: grpc.Server,
    readonly uri: string,
    /** Builds the snapshot of a proxy that connects without one set by `serve`. */
    private readonly snapshotOf?: (proxyKey: string) => Snapshot | undefined,
  ) {}

  static async start(opts: { snapshotOf?: (proxyKey: string) => Snapshot | undefined } = {}): Promise<InProcessAds> {
    const server = createGrpcServer();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const ads = new InProcessAds(server, `127.0.0.1:${port}`, opts.snapshotOf);
    addAdsService(server, {
      source: ads.cache,
      status: ads.status,
      instanceId: 'test-ads',
      logger: pino({ level: 'silent' }).child({ component: 'test-ads' }),
      metrics: new XdsMetrics(new Registry()),
      authenticate: async () => {},
      byName: new ByNameBudget({ perStream: 100, perGateway: 1000 }),
    });
    return ads;
  }

  /** Serves `snapshot` to proxy `<mesh>.<name>` (now, and whenever it connects). */
  serve(proxyKey: string, snapshot: Snapshot): void {
    this.snapshots.set(proxyKey, snapshot);
    this.cache.set(proxyKey, snapshot);
  }

  /** The ACK/NACK state per resource type of the proxy's streams (all of them, newest last). */
  typeStatus(proxyKey: string): Record<string, TypeStatus>[] {
    const insight = this.status.insight(proxyKey) as { subscriptions: { status: Record<string, TypeStatus> }[] } | undefined;
    return (insight?.subscriptions ?? []).map((s) => Object.fromEntries(Object.entries(s.status).filter(([k]) => k !== 'total' && k !== 'lastUpdateTime')));
  }

  /** Every NACK the proxy sent, as `type: error`. */
  nacks(proxyKey: string): string[] {
    return this.typeStatus(proxyKey).flatMap((s) => Object.entries(s).flatMap(([t, c]) => (c.responsesRejected > 0 ? [`${t}: ${c.lastNack?.error ?? '?'}`] : [])));
  }

  /** Closes the server and every stream at once (grpc-js-xds keeps its ADS stream open while the process lives). */
  stop(): void {
    this.server.forceShutdown();
  }
}
