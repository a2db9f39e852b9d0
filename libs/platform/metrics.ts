import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics. One registry per process (tests may run several).
 * Names follow Prometheus conventions: `kuma_` prefix, base units (seconds, bytes), `_total` counters.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly apiRequests = new Counter({
    name: 'kuma_api_requests_total',
    help: 'REST API requests by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  readonly apiRequestDuration = new Histogram({
    name: 'kuma_api_request_duration_seconds',
    help: 'REST API request latency.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly logAppendDuration = new Histogram({
    name: 'kuma_event_log_append_duration_seconds',
    help: 'Time to durably append one event to the log, by store and outcome (ok, conflict, error).',
    labelNames: ['store', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly projectionPosition = new Gauge({
    name: 'kuma_projection_position',
    help: 'Sequence of the last event the projection applied.',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly projectionLag = new Gauge({
    name: 'kuma_projection_lag_events',
    help: 'Events in the log that the projection has not applied yet.',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly projectionEvents = new Counter({
    name: 'kuma_projection_events_total',
    help: 'Events the projection read and applied (a gateway alone reads only the types it serves from).',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly projectionResources = new Gauge({
    name: 'kuma_projection_resources',
    help: 'Resources in the current-state projection.',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly checkpointSaves = new Counter({
    name: 'kuma_checkpoint_saves_total',
    help: 'Projection checkpoints saved, by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly checkpointSaveDuration = new Histogram({
    name: 'kuma_checkpoint_save_duration_seconds',
    help: 'Time to encode and store one projection checkpoint.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly checkpointPosition = new Gauge({
    name: 'kuma_checkpoint_position',
    help: 'Log sequence of the newest saved checkpoint.',
    registers: [this.registry],
  });

  readonly singletonLease = new Gauge({
    name: 'kuma_cp_singleton_lease',
    help: 'Whether this process holds the lease for the singletons (checkpoints, retention) among the replicas sharing a PostgreSQL store: 1 or 0.',
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
