import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** xDS serving metrics of one process. */
export class XdsMetrics {
  readonly streams: Gauge<'mode'>;
  readonly pushes: Counter<'type'>;
  readonly pushBytes: Counter;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  readonly unknownTypes: Counter;
  readonly rejectedStreams: Counter<'reason'>;
  readonly rejectedConnections: Counter<'reason'>;
  readonly delayedPushes: Counter;
  readonly generationSeconds: Histogram;
  readonly propagationSeconds: Histogram;
  readonly ownedProxies: Gauge;
  readonly manifestWrites: Counter<'outcome'>;
  readonly contentLookups: Counter<'outcome'>;
  readonly contentCacheBytes: Gauge;
  readonly staleManifests: Counter;
  readonly contentGcRuns: Counter<'outcome'>;
  readonly contentGcRemoved: Counter<'kind'>;
  readonly eventToAckSeconds: Histogram;
  readonly byNameRefused: Counter<'limit'>;
  /** Latest responses (one per stream and type) sent and not yet ACKed or NACKed; kept by the streams. */
  awaitingAck = 0;
  private readonly perType = new Map<string, { pushes: Counter.Internal; acks: Counter.Internal; nacks: Counter.Internal }>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.streams = new Gauge({ name: 'kuma_xds_streams', help: 'Open ADS streams by mode (sotw, delta).', labelNames: ['mode'], registers });
    this.pushes = new Counter({ name: 'kuma_xds_responses_sent_total', help: 'xDS responses sent, by resource type.', labelNames: ['type'], registers });
    this.pushBytes = new Counter({ name: 'kuma_xds_response_bytes_total', help: 'Bytes of xDS responses sent.', registers });
    this.acks = new Counter({ name: 'kuma_xds_acks_total', help: 'xDS responses acknowledged by proxies.', labelNames: ['type'], registers });
    this.nacks = new Counter({ name: 'kuma_xds_nacks_total', help: 'xDS responses rejected by proxies (NACK).', labelNames: ['type'], registers });
    this.unknownTypes = new Counter({ name: 'kuma_xds_unknown_type_requests_total', help: 'Requests for type URLs this server does not serve.', registers });
    this.rejectedStreams = new Counter({ name: 'kuma_xds_streams_rejected_total', help: 'Streams closed for a bad node id, failed authentication, no first request in time (FirstRequestTimeoutError) or an internal error.', labelNames: ['reason'], registers });
    this.rejectedConnections = new Counter({
      name: 'kuma_dp_server_connections_rejected_total',
      help: 'Connections to the data plane server closed before they authenticated: too_many_unauthenticated (from one address), authentication_timeout, handshake_timeout.',
      labelNames: ['reason'],
      registers,
    });
    this.delayedPushes = new Counter({ name: 'kuma_xds_delayed_pushes_total', help: 'Pushes held back because a stream was not draining (slow proxy).', registers });
    this.generationSeconds = new Histogram({
      name: 'kuma_xds_generation_duration_seconds',
      help: 'Time to generate one proxy snapshot.',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    });
    this.propagationSeconds = new Histogram({
      name: 'kuma_xds_change_to_snapshot_seconds',
      help: 'From a change entering the log to the affected snapshots being ready to push.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.ownedProxies = new Gauge({ name: 'kuma_projector_owned_proxies', help: 'Proxies whose snapshots this projector generates (its share).', registers });
    this.manifestWrites = new Counter({
      name: 'kuma_projector_manifest_writes_total',
      help: 'Manifest publications by outcome: written, pointer, skipped (unchanged, or older than the stored one), retried (failed, tried again).',
      labelNames: ['outcome'],
      registers,
    });
    this.contentLookups = new Counter({
      name: 'kuma_xds_content_lookups_total',
      help: 'Content-store lookups by a gateway: hit (cache), miss (fetched), corrupt or missing (refetched, never served).',
      labelNames: ['outcome'],
      registers,
    });
    this.contentCacheBytes = new Gauge({ name: 'kuma_xds_content_cache_bytes', help: "Bytes held by the gateway's content cache.", registers });
    this.eventToAckSeconds = new Histogram({
      name: 'kuma_xds_event_to_ack_seconds',
      help: "From a change's event time to the proxy acknowledging the configuration that carries it.",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const awaiting: Gauge = new Gauge({
      name: 'kuma_xds_responses_awaiting_ack',
      help: 'xDS responses (the latest per stream and type) sent and not yet acknowledged or rejected.',
      registers,
      collect: (): void => awaiting.set(this.awaitingAck),
    });
    this.contentGcRuns = new Counter({ name: 'kuma_projector_content_gc_runs_total', help: 'Collections of unreferenced xDS content by this projector, by outcome (ok, failed).', labelNames: ['outcome'], registers });
    this.contentGcRemoved = new Counter({
      name: 'kuma_projector_content_gc_removed_total',
      help: 'Entries removed by content collection: content (blobs, indexes, chunks) and tombstone (manifests of deleted proxies).',
      labelNames: ['kind'],
      registers,
    });
    this.byNameRefused = new Counter({
      name: 'kuma_xds_by_name_refused_total',
      help: 'Services asked for by name (proxyless clients) and not served because a bound was reached: stream (dpServer.maxByNameServicesPerStream) or gateway (dpServer.maxByNameServicesPerGateway); counted at each request that names them.',
      labelNames: ['limit'],
      registers,
    });
    this.staleManifests = new Counter({ name: 'kuma_xds_stale_manifests_total', help: 'Manifests ignored by a gateway because it serves a newer one.', registers });
  }

  /** The per-type counters' children for a type URL, bound once (per-push label lookups showed in profiles). */
  forType(typeUrl: string): { pushes: Counter.Internal; acks: Counter.Internal; nacks: Counter.Internal } {
    let c = this.perType.get(typeUrl);
    if (!c) {
      const type = typeUrl.split('.').pop()!;
      this.perType.set(typeUrl, (c = { pushes: this.pushes.labels({ type }), acks: this.acks.labels({ type }), nacks: this.nacks.labels({ type }) }));
    }
    return c;
  }
}
