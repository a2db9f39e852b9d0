import { describe, expect, it } from 'vitest';
import type { Resource } from '../../libs/resources/resource.ts';
import { dataplaneStatus } from './overview.ts';

const dp = (inbound: unknown[]): Resource => ({
  meta: { type: 'Dataplane', mesh: 'default', name: 'dp-1', labels: {}, creationTime: '', modificationTime: '', version: 1 },
  spec: { networking: { address: '10.0.0.1', inbound } },
});
const connected = { id: 's-1', connectTime: '2026-01-01T00:00:00Z' };
const gone = { ...connected, disconnectTime: '2026-01-01T00:01:00Z' };

describe('dataplaneStatus (Kuma\'s DataplaneOverview status)', () => {
  const ready = dp([{ port: 1, tags: { 'kuma.io/service': 'a' } }]);
  it('is Offline without an insight or with every subscription disconnected', () => {
    expect(dataplaneStatus(ready, undefined)).toBe('Offline');
    expect(dataplaneStatus(ready, { subscriptions: [gone] })).toBe('Offline');
    expect(dataplaneStatus(ready, { subscriptions: 'garbage' })).toBe('Offline');
  });
  it('is Online while a subscription is connected', () => {
    expect(dataplaneStatus(ready, { subscriptions: [gone, connected] })).toBe('Online');
  });
  it('is Partially degraded when an inbound reports itself not ready', () => {
    const degraded = dp([{ port: 1, health: { ready: true } }, { port: 2, health: { ready: false } }]);
    expect(dataplaneStatus(degraded, { subscriptions: [connected] })).toBe('Partially degraded');
    expect(dataplaneStatus(degraded, { subscriptions: [gone] })).toBe('Offline');
  });
});
