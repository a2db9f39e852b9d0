import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import { parseGoDuration } from '../core/duration.ts';
import type { MeshMetricSpec } from './api.ts';
import { formatGoDuration } from './go-duration.ts';

type Conf = MeshMetricSpec['default'];

const DEFAULT_REFRESH_INTERVAL_MS = 60_000;

/** Kuma's backendNameFrom: the endpoint without `/`, `:` as `-` (it names a directory). */
export const otelBackendName = (endpoint: string): string => endpoint.replace(/\//g, '').replace(/:/g, '-');
/** Kuma's OpenTelemetrySocketName: where kuma-dp sends the metrics it collected, for Envoy to forward. */
export const otelSocketName = (backend: string): string => `/tmp/kuma-otel-${backend}`.slice(0, 100) + '.sock';

/** Prometheus label names: anything but `[a-zA-Z0-9_]` becomes `_` (Kuma's util_prometheus.SanitizeLabelName). */
const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * Kuma's mads.DataplaneLabels for a sidecar: every inbound tag (values sorted, joined by `,`)
 * and `kuma_io_services` = `,svc1,svc2,`. Keys sorted, as Go's encoding/json writes maps.
 */
export function extraLabels(dp: DataplaneModel): Record<string, string> {
  const tags = new Map<string, Set<string>>();
  for (const i of dp.inbounds) for (const [k, v] of Object.entries(i.tags)) (tags.get(k) ?? tags.set(k, new Set()).get(k)!).add(v);
  const labels: Record<string, string> = {};
  for (const [k, vs] of tags) labels[sanitize(k)] = [...vs].sort().join(',');
  labels['kuma_io_services'] = `,${[...(tags.get('kuma.io/service') ?? [])].sort().join(',')},`;
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The sidecar section in Kuma's field order (Go marshals struct fields in declaration order). */
function sidecar(s: NonNullable<Conf['sidecar']>): unknown {
  const p = s.profiles;
  return {
    ...(p
      ? {
          profiles: {
            ...(p.appendProfiles ? { appendProfiles: p.appendProfiles.map((x) => ({ name: x.name })) } : {}),
            ...(p.exclude ? { exclude: p.exclude.map((x) => ({ type: x.type, match: x.match })) } : {}),
            ...(p.include ? { include: p.include.map((x) => ({ type: x.type, match: x.match })) } : {}),
          },
        }
      : {}),
    ...(s.includeUnused !== undefined ? { includeUnused: s.includeUnused } : {}),
  };
}

/**
 * What kuma-dp reads from `_kuma:dynamicconfig:observability` (Kuma's MeshMetricDpConfig, as
 * encoding/json writes it): the applications to scrape, the backends, the sidecar profile, and
 * the labels to add.
 */
export function dynamicConfig(conf: Conf, dp: DataplaneModel): string {
  const applications = conf.applications?.map((a) => ({ ...(a.name !== undefined ? { name: a.name } : {}), path: a.path ?? '', port: a.port, address: a.address ?? '' })) ?? null;
  const list: unknown[] = (conf.backends ?? []).some((b) => b.type === 'Prometheus' && b.prometheus) ? [{ type: 'Prometheus', name: null }] : [];
  for (const b of conf.backends ?? []) {
    const endpoint = b.type === 'OpenTelemetry' ? b.openTelemetry?.endpoint : undefined;
    if (endpoint === undefined) continue;
    const name = otelBackendName(endpoint);
    const interval = b.openTelemetry?.refreshInterval !== undefined ? parseGoDuration(b.openTelemetry.refreshInterval) : undefined;
    const refreshInterval = formatGoDuration(interval?.ok ? interval.ms : DEFAULT_REFRESH_INTERVAL_MS);
    list.push({ type: 'OpenTelemetry', name, openTelemetry: { endpoint: otelSocketName(name), refreshInterval } });
  }
  const backends = list.length > 0 ? list : null;
  return JSON.stringify({
    observability: { metrics: { applications, backends, ...(conf.sidecar ? { sidecar: sidecar(conf.sidecar) } : {}), extraLabels: extraLabels(dp) } },
  });
}
