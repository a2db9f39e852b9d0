import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshAccessLogType } from './descriptor.ts';

const from = (backends: string) => `targetRef: {kind: Mesh}\nfrom: [{targetRef: {kind: Mesh}, default: {backends: ${backends}}}]`;
const b = 'spec.from[0].default.backends[0]';

// Cases after pkg/plugins/policies/meshaccesslog/api/v1alpha1/validator_test.go.
describe('MeshAccessLog validation', () => {
  describeCases(
    MeshAccessLogType,
    [
      ['file with plain format', from(`[{type: File, file: {path: /tmp/access.log, format: {type: Plain, plain: '{"start_time": "%START_TIME%"}'}}}]`)],
      ['tcp with json format', from('[{type: Tcp, tcp: {address: "logstash:1234", format: {type: Json, json: [{key: start_time, value: "%START_TIME%"}]}}}]')],
      ['OpenTelemetry', 'targetRef: {kind: Mesh}\nto: [{targetRef: {kind: Mesh}, default: {backends: [{type: OpenTelemetry, openTelemetry: {endpoint: "otel-collector:4317", attributes: [{key: service.version, value: "%KUMA_MESH%"}]}}]}}]'],
    ],
    [
      ["empty 'from' and 'to' array", 'targetRef: {kind: Mesh}', "violations: [{field: spec, message: \"at least one of 'from', 'to' or 'rules' has to be defined\"}]"],
      ["empty 'path'", from(`[{type: File, file: {format: {type: Plain, plain: '{"start_time": "%START_TIME%"}'}}}]`), `violations: [{field: "${b}.file.path", message: file backend requires a valid path}]`],
      ["invalid 'path'", from("[{type: File, file: {path: '#not_valid', format: {type: Plain, plain: x}}}]"), `violations: [{field: "${b}.file.path", message: file backend requires a valid path}]`],
      [
        'rules mixed with from, backends missing',
        'targetRef: {kind: Mesh}\nrules: [{default: {backends: [{type: File, file: {path: /tmp/a}}]}}]\nfrom: [{targetRef: {kind: Mesh}, default: {}}]',
        `violations:
  - {field: spec, message: "fields 'to' and 'from' must be empty when 'rules' is defined"}
  - {field: "spec.from[0].default.backends", message: must be defined}`,
      ],
      [
        'OpenTelemetry with neither endpoint nor backendRef, unknown backend type',
        from('[{type: OpenTelemetry, openTelemetry: {}}, {type: Syslog}]'),
        `violations:
  - {field: "${b}.openTelemetry", message: "openTelemetry must have exactly one defined: endpoint, backendRef"}
  - {field: "spec.from[0].default.backends[1].type", message: "must be one of: Tcp, File, OpenTelemetry"}`,
      ],
      [
        'gateway to MeshService',
        'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: MeshService, name: b}, default: {backends: [{type: File, file: {path: /tmp/a}}]}}]',
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
    ],
  );
});
