import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshCircuitBreakerType } from './descriptor.ts';

const to = (conf: string) => `targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: ${conf}}]`;
const d = 'spec.to[0].default';
const toBlock = (conf: string) => `targetRef: {kind: MeshService, name: web-frontend}\nto:\n  - targetRef: {kind: MeshService, name: web-backend}\n    default:${conf}`;

// Ported from pkg/plugins/policies/meshcircuitbreaker/api/v1alpha1/validator_test.go (messages as in Kuma 2.x messages.go).
describe('MeshCircuitBreaker validation', () => {
  describeCases(
    MeshCircuitBreakerType,
    [
      [
        'full example',
        toBlock(`
      connectionLimits: {maxConnections: 2, maxPendingRequests: 32, maxRetries: 2, maxRequests: 64}
      outlierDetection:
        disabled: false
        interval: 10s
        baseEjectionTime: 15s
        maxEjectionPercent: 43
        splitExternalAndLocalErrors: true
        detectors:
          totalFailures: {consecutive: 20}
          gatewayFailures: {consecutive: 30}
          localOriginFailures: {consecutive: 40}
          successRate: {minimumHosts: 3, requestVolume: 20, standardDeviationFactor: 3311}
          failurePercentage: {requestVolume: 4, minimumHosts: 2, threshold: 75}`),
      ],
      ['minimal example', to('{connectionLimits: {}}')],
      ['rules', 'targetRef: {kind: Mesh}\nrules: [{default: {connectionLimits: {maxConnections: 10}}}]'],
      ['decimal standardDeviationFactor', to('{outlierDetection: {detectors: {successRate: {standardDeviationFactor: "1.9"}}}}')],
    ],
    [
      ["empty 'from' and 'to' array", 'targetRef: {kind: Mesh}', "violations: [{field: spec, message: \"at least one of 'from', 'to' or 'rules' has to be defined\"}]"],
      [
        'unsupported kind in from selector',
        'targetRef: {kind: MeshService, name: web-frontend}\nfrom: [{targetRef: {kind: MeshGatewayRoute}, default: {connectionLimits: {}}}]',
        'violations: [{field: "spec.from[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'unsupported kind in to selector',
        'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshServiceSubset}, default: {connectionLimits: {}}}]',
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'missing configuration',
        'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshService, name: web-backend}}]',
        `violations: [{field: "${d}", message: "at least one of: 'connectionLimits' or 'outlierDetection' should be configured"}]`,
      ],
      [
        'limits cannot be equal 0 when specified',
        to('{connectionLimits: {maxConnections: 0, maxConnectionPools: 0, maxPendingRequests: 0, maxRetries: 0, maxRequests: 0}}'),
        `violations:
  - {field: "${d}.connectionLimits.maxConnections", message: must be greater than 0}
  - {field: "${d}.connectionLimits.maxConnectionPools", message: must be greater than 0}
  - {field: "${d}.connectionLimits.maxPendingRequests", message: must be greater than 0}
  - {field: "${d}.connectionLimits.maxRetries", message: must be greater than 0}
  - {field: "${d}.connectionLimits.maxRequests", message: must be greater than 0}`,
      ],
      [
        "any outlierDetection's numeric property cannot be 0 when specified",
        toBlock(`
      outlierDetection:
        interval: 0s
        baseEjectionTime: 0s
        maxEjectionPercent: 0
        detectors:
          totalFailures: {consecutive: 0}
          gatewayFailures: {consecutive: 0}
          localOriginFailures: {consecutive: 0}
          successRate: {minimumHosts: 0, requestVolume: 0, standardDeviationFactor: 0}
          failurePercentage: {requestVolume: 0, minimumHosts: 0, threshold: 0}`),
        `violations:
  - {field: "${d}.outlierDetection.interval", message: must be greater than zero when defined}
  - {field: "${d}.outlierDetection.baseEjectionTime", message: must be greater than zero when defined}
  - {field: "${d}.outlierDetection.detectors.totalFailures.consecutive", message: must be greater than 0}
  - {field: "${d}.outlierDetection.detectors.gatewayFailures.consecutive", message: must be greater than 0}
  - {field: "${d}.outlierDetection.detectors.localOriginFailures.consecutive", message: must be greater than 0}
  - {field: "${d}.outlierDetection.detectors.successRate.minimumHosts", message: must be greater than 0}
  - {field: "${d}.outlierDetection.detectors.successRate.requestVolume", message: must be greater than 0}
  - {field: "${d}.outlierDetection.detectors.successRate.standardDeviationFactor", message: must be greater than 0}
  - {field: "${d}.outlierDetection.detectors.failurePercentage.minimumHosts", message: must be greater than 0}
  - {field: "${d}.outlierDetection.detectors.failurePercentage.requestVolume", message: must be greater than 0}`,
      ],
      [
        "any outlierDetection's percentage property cannot be greater than 100",
        to('{outlierDetection: {maxEjectionPercent: 101, detectors: {failurePercentage: {threshold: 101}}}}'),
        `violations:
  - {field: "${d}.outlierDetection.maxEjectionPercent", message: "must be in inclusive range [0, 100]"}
  - {field: "${d}.outlierDetection.detectors.failurePercentage.threshold", message: "must be in inclusive range [0, 100]"}`,
      ],
      ['detectors are not defined', to('{outlierDetection: {maxEjectionPercent: 100}}'), `violations: [{field: "${d}.outlierDetection.detectors", message: must be defined}]`],
      [
        'detector is empty',
        to('{outlierDetection: {maxEjectionPercent: 100, detectors: {}}}'),
        `violations: [{field: "${d}.outlierDetection.detectors", message: "must have at least one defined: totalFailures, gatewayFailures, localOriginFailures, successRate, failurePercentage"}]`,
      ],
      [
        'rules mixed with to',
        'targetRef: {kind: Mesh}\nrules: [{default: {connectionLimits: {}}}]\nto: [{targetRef: {kind: Mesh}, default: {connectionLimits: {}}}]',
        "violations: [{field: spec, message: \"fields 'to' and 'from' must be empty when 'rules' is defined\"}]",
      ],
      [
        'malformed standardDeviationFactor and percentage',
        to('{outlierDetection: {healthyPanicThreshold: "ten", detectors: {successRate: {standardDeviationFactor: "1.2.3"}}}}'),
        `violations:
  - {field: "${d}.outlierDetection.healthyPanicThreshold", message: string must be a valid number}
  - {field: "${d}.outlierDetection.detectors.successRate.standardDeviationFactor", message: invalid number}`,
      ],
    ],
  );
});
