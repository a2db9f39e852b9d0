import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshTraceType } from './descriptor.ts';

describe('MeshTrace validation', () => {
  describeCases(
    MeshTraceType,
    [
      [
        'zipkin with sampling and tags',
        'targetRef: {kind: Mesh}\ndefault: {backends: [{type: Zipkin, zipkin: {url: "http://jaeger-collector:9411/api/v2/spans", apiVersion: httpJson}}], sampling: {overall: 80, client: "50.5", random: 10}, tags: [{name: team, literal: core}, {name: env, header: {name: x-env, default: prod}}]}',
      ],
      ['OpenTelemetry', 'default: {backends: [{type: OpenTelemetry, openTelemetry: {endpoint: "otel-collector:4317"}}]}'],
    ],
    [
      ['no default', 'targetRef: {kind: Mesh}', 'violations: [{field: spec.default, message: must be defined}]'],
      [
        'two backends, bad url, sampling out of range',
        'default: {backends: [{type: Zipkin, zipkin: {url: "not a url"}}, {type: Datadog}], sampling: {overall: 101}}',
        `violations:
  - {field: spec.default.backends, message: must have zero or one backend defined}
  - {field: "spec.default.backends[0].zipkin.url", message: must be a valid url}
  - {field: "spec.default.backends[1].datadog", message: must be defined}
  - {field: spec.default.sampling.overall, message: "must be in inclusive range [0.0, 100.0]"}`,
      ],
      [
        'to is not a section of this policy; unsupported top-level kind',
        'targetRef: {kind: MeshHTTPRoute, name: r}\nto: []\ndefault: {}',
        `violations:
  - {field: spec.to, message: unknown field}
  - {field: spec.targetRef.kind, message: value is not supported}`,
      ],
    ],
  );
});
