import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshTraceType } from './descriptor.ts';

const b = 'spec.default.backends[0]';

// After pkg/plugins/policies/meshtrace/api/v1alpha1/validator.go and validator_test.go.
describe('MeshTrace validation', () => {
  describeCases(
    MeshTraceType,
    [
      [
        'zipkin with sampling and tags',
        'targetRef: {kind: Mesh}\ndefault: {backends: [{type: Zipkin, zipkin: {url: "http://jaeger-collector:9411/api/v2/spans", apiVersion: httpJson}}], sampling: {overall: 80, client: "50.5", random: 10}, tags: [{name: team, literal: core}, {name: env, header: {name: x-env, default: prod}}]}',
      ],
      ['datadog', 'default: {backends: [{type: Datadog, datadog: {url: "http://127.0.0.1:8126", splitService: true}}]}'],
      ['OpenTelemetry', 'default: {backends: [{type: OpenTelemetry, openTelemetry: {endpoint: "otel-collector:4317"}}]}'],
      ['no backend at all', 'default: {backends: []}'],
    ],
    [
      ['no default', 'targetRef: {kind: Mesh}', 'violations: [{field: spec.default, message: must be defined}]'],
      ['backends not defined', 'default: {sampling: {overall: 10}}', 'violations: [{field: spec.default.backends, message: must be defined}]'],
      [
        'two backends, sampling out of range',
        'default: {backends: [{type: Zipkin, zipkin: {url: "not a url"}}, {type: Datadog}], sampling: {overall: 101, client: "x"}}',
        `violations:
  - {field: spec.default.backends, message: must have zero or one backend defined}
  - {field: spec.default.sampling.client, message: string is not a number}
  - {field: spec.default.sampling.overall, message: must be between 0 and 100}`,
      ],
      [
        'datadog url rules',
        'default: {backends: [{type: Datadog, datadog: {url: "https://user@dd/path?q=1"}}]}',
        `violations:
  - {field: "${b}.datadog.url", message: scheme must be http}
  - {field: "${b}.datadog.url", message: port must be defined}
  - {field: "${b}.datadog.url", message: user must not be defined}
  - {field: "${b}.datadog.url", message: path must not be defined}
  - {field: "${b}.datadog.url", message: query must not be defined}`,
      ],
      [
        'zipkin url, missing section, tags',
        'default: {backends: [{type: Zipkin, zipkin: {url: ""}}], tags: [{name: "", literal: a, header: {name: b}}, {name: c}]}',
        `violations:
  - {field: "${b}.zipkin.url", message: must not be empty}
  - {field: "spec.default.tags[0].name", message: must not be empty}
  - {field: "spec.default.tags[0]", message: "tag must have only one type defined: header, literal"}
  - {field: "spec.default.tags[1]", message: "tag must have only one type defined: header, literal"}`,
      ],
      [
        'to is not a section of this policy; unsupported top-level kind',
        'targetRef: {kind: MeshHTTPRoute, name: r}\nto: []\ndefault: {backends: []}',
        `violations:
  - {field: spec.to, message: unknown field}
  - {field: spec.targetRef.kind, message: value is not supported}`,
      ],
    ],
  );
});
