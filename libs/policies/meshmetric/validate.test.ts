import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshMetricType } from './descriptor.ts';

describe('MeshMetric validation', () => {
  describeCases(
    MeshMetricType,
    [
      [
        'prometheus with profiles and applications',
        'targetRef: {kind: Mesh}\ndefault: {sidecar: {includeUnused: false, profiles: {appendProfiles: [{name: Basic}], exclude: [{type: Regex, match: "envoy_cluster_.*"}]}}, applications: [{name: app, path: /metrics, port: 8080}], backends: [{type: Prometheus, prometheus: {port: 5670, path: /metrics, tls: {mode: Disabled}}}]}',
      ],
      ['OpenTelemetry', 'default: {backends: [{type: OpenTelemetry, openTelemetry: {endpoint: "otel-collector:4317", refreshInterval: 1m}}]}'],
    ],
    [
      [
        'bad enums, ports and intervals',
        'default: {sidecar: {profiles: {appendProfiles: [{name: Everything}]}}, applications: [{port: 0}], backends: [{type: Prometheus, prometheus: {port: 70000, path: metrics}}, {type: OpenTelemetry, openTelemetry: {endpoint: "http://x:1/", refreshInterval: soon}}]}',
        `violations:
  - {field: "spec.default.sidecar.profiles.appendProfiles[0].name", message: "must be one of: All, Basic, None"}
  - {field: "spec.default.applications[0].port", message: port must be a valid (1-65535)}
  - {field: "spec.default.backends[0].prometheus.port", message: port must be a valid (1-65535)}
  - {field: "spec.default.backends[0].prometheus.path", message: must be a valid path}
  - {field: "spec.default.backends[1].openTelemetry.endpoint", message: "must be in host:port format, not a URL"}
  - {field: "spec.default.backends[1].openTelemetry.refreshInterval", message: 'time: invalid duration "soon"'}`,
      ],
      ['no default', 'targetRef: {kind: Mesh}', 'violations: [{field: spec.default, message: must be defined}]'],
    ],
  );
});
