import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshMetricType } from './descriptor.ts';

// After pkg/plugins/policies/meshmetric/api/v1alpha1/validator.go (Kuma's paths kept verbatim).
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
        'profiles, ports and backends',
        'default: {sidecar: {regex: "(", profiles: {appendProfiles: [{name: Everything}], include: [{type: Glob, match: "a*"}, {type: Regex, match: "["}]}}, applications: [{port: 0}], backends: [{type: Prometheus, prometheus: {port: 70000, path: /metrics}}, {type: OpenTelemetry, openTelemetry: {endpoint: "http://x:1/", refreshInterval: soon}}, {type: Statsd}]}',
        `violations:
  - {field: spec.default.sidecar.regex, message: invalid regex}
  - {field: "spec.default.sidecar.profiles.include[0].type", message: "unrecognized type 'Glob' - 'regex', 'prefix', 'exact' are supported"}
  - {field: "spec.default.sidecar.profiles.include[1].match", message: invalid regex}
  - {field: "spec.default.sidecar.profiles.appendProfiles[0].name", message: "unrecognized profile name 'Everything' - 'all', 'none', 'basic' are supported"}
  - {field: "spec.default.applications.application[0]", message: port must be a valid (1-65535)}
  - {field: "spec.default.backends.backend[0].port", message: port must be a valid (1-65535)}
  - {field: "spec.default.backends.backend[1].openTelemetry.endpoint", message: "must be in host:port format, not a URL"}
  - {field: "spec.default.backends[1].openTelemetry.refreshInterval", message: 'time: invalid duration "soon"'}
  - {field: "spec.default.backends.backend[2]", message: unrecognized type}`,
      ],
      ['no default', 'targetRef: {kind: Mesh}', 'violations: [{field: spec.default, message: must be defined}]'],
      ['prometheus not defined', 'default: {backends: [{type: Prometheus}]}', 'violations: [{field: "spec.default.backends.backend[0].prometheus", message: must be defined}]'],
    ],
  );
});
