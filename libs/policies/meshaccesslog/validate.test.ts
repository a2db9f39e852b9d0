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
        from('[{type: OpenTelemetry, openTelemetry: {endpoint: ""}}, {type: Syslog}]'),
        `violations:
  - {field: "${b}.openTelemetry", message: "openTelemetry must have exactly one defined: endpoint, backendRef"}
  - {field: "spec.from[0].default.backends[1].type", message: "must be one of: Tcp, File, OpenTelemetry"}`,
      ],
      [
        'json format entries (Kuma)',
        from(`[{type: File, file: {path: /tmp/logs.txt, format: {type: Json, json: [{key: start_time}, {key: '"', value: "%START_TIME%"}]}}}]`),
        `violations:
  - {field: "${b}.file.format.json[0].value", message: value cannot be empty}
  - {field: "${b}.file.format.json[1]", message: is not a valid JSON object}`,
      ],
      ["'default' not defined in to (Kuma)", 'targetRef: {kind: Mesh}\nto: [{targetRef: {kind: Mesh}}]', 'violations: [{field: "spec.to[0].default.backends", message: must be defined}]'],
      [
        'sectionName with outbound policies (Kuma)',
        'targetRef: {kind: Dataplane, sectionName: test}\nto: [{targetRef: {kind: Mesh}}]',
        `violations:
  - {field: spec.targetRef.sectionName, message: can only be used with inbound policies}
  - {field: "spec.to[0].default.backends", message: must be defined}`,
      ],
      ["'address' not valid (Kuma)", from('[{type: Tcp, tcp: {address: not_valid_url, format: {type: Json, json: [{key: start_time, value: "%START_TIME%"}]}}}]'), `violations: [{field: "${b}.tcp.address", message: tcp backend requires valid address}]`],
      [
        'empty format json list and plain (Kuma)',
        from('[{type: File, file: {path: /tmp/logs.txt, format: {type: Json, json: []}}}, {type: Tcp, tcp: {address: "http://logs.com", format: {type: Plain, plain: ""}}}]'),
        `violations:
  - {field: "${b}.file.format.json", message: must not be empty}
  - {field: "spec.from[0].default.backends[1].tcp.format.plain", message: must not be empty}`,
      ],
      [
        'backend must be defined (Kuma)',
        from('[{type: File}, {type: Tcp}, {type: OpenTelemetry}]'),
        `violations:
  - {field: "${b}.file", message: must be defined}
  - {field: "spec.from[0].default.backends[1].tcp", message: must be defined}
  - {field: "spec.from[0].default.backends[2].openTelemetry", message: must be defined}`,
      ],
      [
        'format must be defined (Kuma)',
        from('[{type: File, file: {path: /tmp/logs.txt, format: {type: Plain}}}, {type: Tcp, tcp: {address: "http://logs.com", format: {type: Json}}}]'),
        `violations:
  - {field: "${b}.file.format.plain", message: must be defined}
  - {field: "spec.from[0].default.backends[1].tcp.format.json", message: must be defined}`,
      ],
      [
        'openTelemetry both endpoint and backendRef (Kuma)',
        from('[{type: OpenTelemetry, openTelemetry: {endpoint: "otel-collector:4317", backendRef: {kind: MeshOpenTelemetryBackend, labels: {kuma.io/display-name: my-otel}}}}]'),
        `violations: [{field: "${b}.openTelemetry", message: "openTelemetry must have only one type defined: endpoint, backendRef"}]`,
      ],
      [
        'gateway to MeshService',
        'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: MeshService, name: b}, default: {backends: [{type: File, file: {path: /tmp/a}}]}}]',
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
    ],
  );
});
