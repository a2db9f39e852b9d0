import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshHTTPRouteType } from './descriptor.ts';

const RFC1123 =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LONG = 'a23456789-a23456789-a234567890' + '.a23456789'.repeat(22) + '.com';
const rule = (def: string, matches = '[{path: {type: PathPrefix, value: /}}]') =>
  `targetRef: {kind: Mesh}\nto: [{targetRef: {kind: MeshService, name: frontend}, rules: [{matches: ${matches}, default: ${def}}]}]`;
const f = (i: number, rest: string) => `spec.to[0].rules[0].default.filters[${i}].${rest}`;

// Ported from pkg/plugins/policies/meshhttproute/api/v1alpha1/validation_test.go.
describe('MeshHTTPRoute validation', () => {
  describeCases(
    MeshHTTPRouteType,
    [
      [
        'MeshGateway to Mesh allowed',
        'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: Mesh}, rules: [{matches: [{path: {value: /, type: PathPrefix}}], default: {filters: [{type: URLRewrite, urlRewrite: {hostToBackendHostname: true}}], backendRefs: [{kind: MeshService, name: backend}]}}]}]',
      ],
      [
        'MeshGateway with hostnames allowed',
        'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: Mesh}, hostnames: [exammple.com], rules: [{matches: [{path: {value: /, type: PathPrefix}}], default: {backendRefs: [{kind: MeshService, name: backend}]}}]}]',
      ],
      ['accepts valid resource', 'targetRef: {kind: Mesh}\nto: []'],
      [
        'prefix rewrite with prefix match',
        rule(
          '{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /other}}}, {type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /other}}}]}',
          '[{path: {value: /prefix, type: PathPrefix}}]',
        ),
      ],
      [
        'MeshService and MeshMultiZoneService',
        `
targetRef: {kind: Mesh}
to:
- targetRef: {kind: MeshService, labels: {kuma.io/display-name: backend}}
  rules:
    - matches: [{path: {value: /v1, type: PathPrefix}}]
      default: {backendRefs: [{kind: MeshService, labels: {kuma.io/display-name: backend}, port: 8080}]}
    - matches: [{path: {value: /v2, type: PathPrefix}}]
      default: {backendRefs: [{kind: MeshMultiZoneService, labels: {kuma.io/display-name: backend}, port: 8080}]}`,
      ],
      [
        'weighted split, header, query and method matches',
        rule(
          '{backendRefs: [{kind: MeshService, name: backend, weight: 90}, {kind: MeshServiceSubset, name: backend, tags: {version: v2}, weight: 10}]}',
          '[{method: GET, headers: [{name: x-user, value: admin}, {type: Present, name: x-debug}], queryParams: [{type: Exact, name: a, value: "1"}]}]',
        ),
      ],
    ],
    [
      [
        'invalid backendRef in requestMirror',
        rule('{filters: [{type: RequestMirror, requestMirror: {backendRef: {kind: MeshServiceSubset, tags: {version: v1}}}}]}'),
        `violations: [{field: "${f(0, 'requestMirror.backendRef.name')}", message: must be set with kind MeshServiceSubset}]`,
      ],
      [
        'invalid hostnames',
        rule(
          `{filters: [
            {type: RequestRedirect, requestRedirect: {hostname: 127.0.0.1}},
            {type: RequestRedirect, requestRedirect: {hostname: "2001:db8:3333:4444:5555:6666:7777:8888"}},
            {type: RequestRedirect, requestRedirect: {hostname: a..bc}},
            {type: URLRewrite, urlRewrite: {hostname: mx.foo.com.}},
            {type: URLRewrite, urlRewrite: {hostname: ${LONG}.}}]}`,
        ),
        `violations:
  - {field: "${f(0, 'requestRedirect.hostname')}", message: cannot be an IP address}
  - {field: "${f(1, 'requestRedirect.hostname')}", message: cannot be an IP address}
  - {field: "${f(2, 'requestRedirect.hostname')}", message: "${RFC1123}"}
  - {field: "${f(3, 'urlRewrite.hostname')}", message: "${RFC1123}"}
  - {field: "${f(4, 'urlRewrite.hostname')}", message: must be no more than 253 characters}
  - {field: "${f(4, 'urlRewrite.hostname')}", message: "${RFC1123}"}`,
      ],
      [
        'prefix rewrite without a prefix match',
        rule('{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /other}}}]}', '[{path: {type: Exact, value: /x}}]'),
        `violations: [{field: "${f(0, 'urlRewrite.path.replacePrefixMatch')}", message: can only appear if all matches match a path prefix}]`,
      ],
      [
        'path values',
        rule('{}', '[{path: {type: PathPrefix, value: /a/}}, {path: {type: Exact, value: relative}}]'),
        `violations:
  - {field: "spec.to[0].rules[0].matches[0].path.value", message: "does not need a trailing slash because only a \`/\`-separated prefix or an entire path is matched"}
  - {field: "spec.to[0].rules[0].matches[1].path.value", message: must be an absolute path}`,
      ],
      [
        'hostnames without a MeshGateway',
        'targetRef: {kind: Mesh}\nto: [{targetRef: {kind: MeshService, name: backend}, hostnames: [example.com], rules: []}]',
        'violations: [{field: "spec.to[0].hostnames", message: must not be defined}]',
      ],
      [
        'to kind Mesh without a MeshGateway',
        'targetRef: {kind: Mesh}\nto: [{targetRef: {kind: Mesh}, rules: []}]',
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'gateway rule without backends',
        'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: Mesh}, rules: [{default: {}}]}]',
        'violations: [{field: "spec.to[0].rules[0].default.backendRefs", message: must not be empty}]',
      ],
      [
        'header modifier checks',
        rule('{filters: [{type: RequestHeaderModifier, requestHeaderModifier: {}}, {type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x, value: a}], remove: [x]}}, {type: RequestHeaderModifier}]}'),
        `violations:
  - {field: "${f(0, 'requestHeaderModifier')}", message: "must have at least one defined: set, add, remove"}
  - {field: "${f(1, 'responseHeaderModifier.remove[0].name')}", message: duplicate header name}
  - {field: "${f(2, 'requestHeaderModifier')}", message: must be defined}`,
      ],
      [
        'MeshMultiZoneService backend without a port, negative weight, unknown method',
        rule('{backendRefs: [{kind: MeshMultiZoneService, name: backend}, {kind: MeshService, name: b, weight: -1}]}', '[{method: FETCH}]'),
        `violations:
  - {field: "spec.to[0].rules[0].matches[0].method", message: "must be one of: CONNECT, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE"}
  - {field: "spec.to[0].rules[0].default.backendRefs[0].port", message: must be defined with kind MeshMultiZoneService}
  - {field: "spec.to[0].rules[0].default.backendRefs[1].weight", message: must be a non-negative integer}`,
      ],
      [
        'unsupported backend kind and unknown fields',
        rule('{backendRefs: [{kind: Mesh, weight: 1}], timeout: 1s}'),
        `violations:
  - {field: "spec.to[0].rules[0].default.timeout", message: unknown field}
  - {field: "spec.to[0].rules[0].default.backendRefs[0].kind", message: value is not supported}`,
      ],
    ],
  );
});
