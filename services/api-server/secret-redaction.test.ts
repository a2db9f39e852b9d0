import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redactDifference } from './audit-routes.ts';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import { kekOf, Keyring } from '../../libs/secrets/keyring.ts';
import { SecretRedactor } from '../../libs/secrets/redactor.ts';

const ring = new Keyring(kekOf(Buffer.alloc(32, 7)));
const redactor = new SecretRedactor((t) => t === 'Secret', (c) => ring.digest(c));
const upsert = (type: string, spec: Record<string, string>): StoredEvent => ({
  seq: 1,
  id: 'e1',
  time: '2026-12-01T00:00:00Z',
  actor: { subject: 'a', source: 'rest' },
  type,
  mesh: 'm',
  name: 'n',
  op: 'upsert',
  resource: { labels: {}, creationTime: '', modificationTime: '', spec },
});

describe('SecretRedactor', () => {
  it('replaces every field of a confidential spec by a keyed digest: equal data, equal digest', () => {
    const a = redactor.event(upsert('Secret', { data: 'aHVudGVyMg==' }));
    const b = redactor.event(upsert('Secret', { data: 'aHVudGVyMg==' }));
    const c = redactor.event(upsert('Secret', { data: 'b3RoZXI=' }));
    const shown = (e: StoredEvent) => (e.op === 'upsert' ? e.resource.spec['data'] : undefined);
    expect(shown(a)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(shown(a)).toBe(shown(b));
    expect(shown(a)).not.toBe(shown(c));
    // Not a plain hash an attacker could compute from a guess.
    expect(shown(a)).not.toContain(createHash('sha256').update('aHVudGVyMg==').digest('hex'));
    const dp = upsert('Dataplane', { data: 'x' });
    expect(redactor.event(dp)).toBe(dp);
  });

  it('re-keys replay-verify fingerprints of confidential resources only', () => {
    const d = redactDifference({ subject: 'm.Secret.n', live: 'abc', rebuilt: 'def' }, redactor);
    expect(d.live).toMatch(/^hmac-sha256:/);
    expect(d.live).not.toBe(d.rebuilt);
    expect(redactDifference({ subject: 'm.Dataplane.n', live: 'abc' }, redactor)).toEqual({ subject: 'm.Dataplane.n', live: 'abc' });
  });
});
