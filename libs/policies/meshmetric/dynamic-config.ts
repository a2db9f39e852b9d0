import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import type { MeshMetricSpec } from './api.ts';

type Conf = MeshMetricSpec['default'];

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
 * the labels to add. OpenTelemetry backends are not configured here yet.
 */
export function dynamicConfig(conf: Conf, dp: DataplaneModel): string {
  const applications = conf.applications?.map((a) => ({ ...(a.name !== undefined ? { name: a.name } : {}), path: a.path ?? '', port: a.port, address: a.address ?? '' })) ?? null;
  const backends = (conf.backends ?? []).some((b) => b.type === 'Prometheus' && b.prometheus) ? [{ type: 'Prometheus', name: null }] : null;
  return JSON.stringify({
    observability: { metrics: { applications, backends, ...(conf.sidecar ? { sidecar: sidecar(conf.sidecar) } : {}), extraLabels: extraLabels(dp) } },
  });
}
