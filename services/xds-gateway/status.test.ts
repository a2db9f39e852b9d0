import { describe, expect, it } from 'vitest';
import { StreamStatusRegistry, Subscription } from './status.ts';

describe('StreamStatusRegistry', () => {
  it('keeps the last five streams of a proxy and forgets proxies gone for an hour', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const reg = new StreamStatusRegistry(() => now);
    const subs = Array.from({ length: 7 }, () => new Subscription('cp-1', 'sotw', {}));
    for (const s of subs) reg.open('default.a', s);
    expect((reg.insight('default.a')!['subscriptions'] as unknown[]).length).toBe(5);
    const live = new Subscription('cp-1', 'delta', {});
    reg.open('default.b', live);
    for (const s of subs) reg.close(s);
    expect(reg.connected('default.a')).toBe(false);
    expect(reg.connected('default.b')).toBe(true);
    now += 61 * 60 * 1000;
    reg.prune();
    expect(reg.insight('default.a')).toBeUndefined();
    expect(reg.insight('default.b')).toBeDefined();
    expect(reg.size).toBe(1);
  });
});
