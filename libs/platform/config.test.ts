import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('dpServer bounds on services asked for by name', () => {
  it('default to 256 per stream and 10,000 per gateway, and are set by KUMA_* variables', () => {
    expect(loadConfig({ env: {} }).config.dpServer).toMatchObject({ maxByNameServicesPerStream: 256, maxByNameServicesPerGateway: 10_000 });
    const { config } = loadConfig({ env: { KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_STREAM: '8', KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_GATEWAY: '100' } });
    expect(config.dpServer).toMatchObject({ maxByNameServicesPerStream: 8, maxByNameServicesPerGateway: 100 });
  });

  it('refuse zero, negative and non-integer values, naming the key', () => {
    expect(() => loadConfig({ env: { KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_STREAM: '0' } })).toThrow(new ConfigError('dpServer.maxByNameServicesPerStream: must be a whole number of at least 1, got 0'));
    expect(() => loadConfig({ env: { KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_GATEWAY: '-1' } })).toThrow(/dpServer\.maxByNameServicesPerGateway: must be a whole number of at least 1/);
    expect(() => loadConfig({ env: { KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_GATEWAY: '2.5' } })).toThrow(/dpServer\.maxByNameServicesPerGateway .*must be an integer/);
  });
});

describe('experimental.autoReachableServices', () => {
  it("is off by default and set by Kuma's KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES", () => {
    expect(loadConfig({ env: {} }).config.experimental.autoReachableServices).toBe(false);
    expect(loadConfig({ env: { KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES: 'true' } }).config.experimental.autoReachableServices).toBe(true);
    expect(() => loadConfig({ env: { KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES: 'yes' } })).toThrow(/experimental\.autoReachableServices .*must be true or false/);
  });
});
