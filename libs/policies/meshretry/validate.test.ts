import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshRetryType } from './descriptor.ts';

const to = (conf: string, target = '{kind: Mesh}') => `targetRef: {kind: Mesh}\nto: [{targetRef: ${target}, default: ${conf}}]`;
const at = (field: string, message: string) => `violations: [{field: "spec.to[0].default.conf.${field}", message: "${message}"}]`;

// Ported from pkg/plugins/policies/meshretry/api/v1alpha1/validator_test.go.
describe('MeshRetry validation', () => {
  describeCases(
    MeshRetryType,
    [
      [
        'full example',
        `
targetRef: {kind: Mesh}
to:
  - targetRef: {kind: Mesh}
    default: {tcp: {maxConnectAttempt: 5}}
  - targetRef: {kind: MeshService, name: backend}
    default:
      tcp: {maxConnectAttempt: 5}
      http:
        numRetries: 10
        perTryTimeout: 20s
        backOff: {baseInterval: 15s, maxInterval: 20m}
        rateLimitedBackOff:
          resetHeaders: [{name: retry-after-http, format: Seconds}, {name: x-retry-after-http, format: UnixTimestamp}]
          maxInterval: 21m
        retryOn: [5xx, GatewayError, Reset, Retriable4xx, ConnectFailure, EnvoyRatelimited, RefusedStream, Http3PostConnectFailure,
          HttpMethodConnect, HttpMethodDelete, HttpMethodGet, HttpMethodHead, HttpMethodOptions, HttpMethodPatch, HttpMethodPost,
          HttpMethodPut, HttpMethodTrace, 500, 409, 503]
        retriableRequestHeaders: [{type: PREFIX, name: x-my-header-1, value: kuma-value-}, {type: REGULAR_EXPRESSION, name: x-my-header-2, value: ".*"}]
        retriableResponseHeaders: [{type: EXACT, name: x-my-header-6, value: exact-value}]
      grpc:
        numRetries: 10
        perTryTimeout: 20s
        backOff: {baseInterval: 15s, maxInterval: 20m}
        rateLimitedBackOff: {resetHeaders: [{name: retry-after-grpc, format: Seconds}], maxInterval: 21m}
        retryOn: [Canceled, DeadlineExceeded, Internal, ResourceExhausted, Unavailable]`,
      ],
      ['minimalistic http retry', to('{http: {numRetries: 5}}')],
      ['minimalistic to MeshMultiZoneService', to('{http: {numRetries: 5}}', '{kind: MeshMultiZoneService, name: web-backend}')],
      ['empty http arrays', to('{http: {numRetries: 5, retryOn: [], retriableRequestHeaders: [], retriableResponseHeaders: []}}')],
      ['minimalistic grpc retry', to('{grpc: {numRetries: 5}}')],
      ['http.retryOn with status codes', to('{http: {retryOn: [500, 409]}}')],
      ['target MeshHTTPRoute', 'targetRef: {kind: MeshHTTPRoute, name: route-1}\nto: [{targetRef: {kind: Mesh}, default: {http: {retryOn: [500, 409]}}}]'],
      ["Kuma's default mesh-retry-all", 'targetRef: {kind: Mesh}\nto: [{targetRef: {kind: Mesh}, default: {tcp: {maxConnectAttempt: 5}, http: {numRetries: 5, perTryTimeout: 16s, backOff: {baseInterval: 25ms, maxInterval: 250ms}}, grpc: {numRetries: 5, perTryTimeout: 16s, backOff: {baseInterval: 25ms, maxInterval: 250ms}}}}]'],
    ],
    [
      ["empty 'to' array", 'targetRef: {kind: MeshService, name: backend}\nto: []', 'violations: [{field: spec.to, message: needs at least one item}]'],
      [
        "unsupported targetRef kinds in 'to'",
        `targetRef: {kind: Mesh}
to:
  - {targetRef: {kind: MeshSubset, tags: {version: v1}}, default: {http: {numRetries: 1}}}
  - {targetRef: {kind: MeshServiceSubset, name: backend, tags: {kuma.io/zone: us-east}}, default: {grpc: {numRetries: 1}}}`,
        `violations:
  - {field: "spec.to[0].targetRef.kind", message: value is not supported}
  - {field: "spec.to[1].targetRef.kind", message: value is not supported}`,
      ],
      ["empty 'default'", to('{}'), "violations: [{field: \"spec.to[0].default.conf\", message: \"at least one of the 'tcp', 'http', 'grpc' must be specified\"}]"],
      [
        "empty root sections in 'default'",
        to('{tcp: {}, http: {}, grpc: {}}'),
        `violations:
  - {field: "spec.to[0].default.conf.tcp", message: must not be empty}
  - {field: "spec.to[0].default.conf.http", message: must not be empty}
  - {field: "spec.to[0].default.conf.grpc", message: must not be empty}`,
      ],
      ['0 for tcp.maxConnectAttempt', to('{tcp: {maxConnectAttempt: 0}}'), at('tcp.maxConnectAttempt', 'must be greater than 0')],
      ['empty http.rateLimitedBackOff.resetHeaders', to('{http: {rateLimitedBackOff: {}}}'), at('http.rateLimitedBackOff.resetHeaders', 'must be defined')],
      ['empty grpc.rateLimitedBackOff.resetHeaders', to('{grpc: {rateLimitedBackOff: {}}}'), at('grpc.rateLimitedBackOff.resetHeaders', 'must be defined')],
      [
        'http.retryOn with not allowed values',
        to('{http: {retryOn: [WRONG_VALUE, 5XX, reset, DEADLINE_EXCEEDED, 123, 952]}}'),
        `violations:
  - {field: "spec.to[0].default.conf.http.retryOn[0]", message: "unknown item 'WRONG_VALUE'"}
  - {field: "spec.to[0].default.conf.http.retryOn[1]", message: "unknown item '5XX'"}
  - {field: "spec.to[0].default.conf.http.retryOn[2]", message: "unknown item 'reset'"}
  - {field: "spec.to[0].default.conf.http.retryOn[3]", message: "unknown item 'DEADLINE_EXCEEDED'"}
  - {field: "spec.to[0].default.conf.http.retryOn[4]", message: "unknown item '123'"}
  - {field: "spec.to[0].default.conf.http.retryOn[5]", message: "unknown item '952'"}`,
      ],
      [
        'grpc.retryOn with not allowed values',
        to('{grpc: {retryOn: [500, reset, wrong]}}'),
        `violations:
  - {field: "spec.to[0].default.conf.grpc.retryOn[0]", message: "unknown item '500'"}
  - {field: "spec.to[0].default.conf.grpc.retryOn[1]", message: "unknown item 'reset'"}
  - {field: "spec.to[0].default.conf.grpc.retryOn[2]", message: "unknown item 'wrong'"}`,
      ],
      [
        'empty http.rateLimitedBackOff.resetHeaders.name',
        to('{http: {rateLimitedBackOff: {resetHeaders: [{name: "", format: UnixTimestamp}]}}}'),
        at('http.rateLimitedBackOff.resetHeaders[0].name', 'must be defined'),
      ],
      ['missing tags when hostSelection set to OmitHostsWithTags', to('{http: {hostSelection: [{predicate: OmitHostsWithTags}]}}'), at('http.hostSelection[0].tags', 'must be defined')],
      [
        'update frequency less than 1 for OmitPreviousPriorities',
        to('{http: {hostSelection: [{predicate: OmitPreviousPriorities, updateFrequency: 0}]}}'),
        at('http.hostSelection[0].updateFrequency', 'must be defined and greater than zero'),
      ],
      [
        'unsupported predicate type in hostSelection',
        to('{http: {hostSelection: [{predicate: OmitPreviousHosts}, {predicate: IncorrectPredicateType}]}}'),
        at('http.hostSelection[1].predicate', "unknown predicate type 'IncorrectPredicateType'"),
      ],
      [
        'OmitPreviousPriorities specified twice',
        to('{http: {hostSelection: [{predicate: OmitPreviousPriorities, updateFrequency: 3}, {predicate: OmitPreviousHosts}, {predicate: OmitPreviousPriorities, updateFrequency: 1}]}}'),
        at('http.hostSelection[2].predicate', 'OmitPreviousPriorities must only be specified once'),
      ],
      [
        'top-level targetRef MeshGateway',
        'targetRef: {kind: MeshGateway, name: gateway-1}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {tcp: {maxConnectAttempt: 5}}}]',
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'top-level targetRef MeshHTTPRoute',
        'targetRef: {kind: MeshHTTPRoute, name: route-1}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {http: {retryOn: [5xx]}}}]',
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'malformed durations and an unknown field (strict decoding)',
        to('{http: {perTryTimeout: 5, backOff: {baseInterval: 1y}, retries: 3}}'),
        `violations:
  - {field: "spec.to[0].default.http.retries", message: unknown field}
  - {field: "spec.to[0].default.http.perTryTimeout", message: 'must be a duration string such as "1h30m" or "500ms"'}
  - {field: "spec.to[0].default.http.backOff.baseInterval", message: 'time: unknown unit "y" in duration "1y"'}`,
      ],
    ],
  );
});
