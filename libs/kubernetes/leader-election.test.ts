import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_KINDS, FakeKubeApiServer } from '../testkit/fake-kube-apiserver.ts';
import { LeaderElector } from './leader-election.ts';

/**
 * Leader election against the FAKE API server (a test double): one leader at a time; a leader that
 * stops hands over at once; one cut off from the API server stops leading before its lease
 * expires, and another takes over after it; what leading runs is started and stopped in turn.
 */
let fake: FakeKubeApiServer;
const LEASE = { namespace: 'kuma-system', name: 'kuma-cp-leader', leaseDurationMs: 1000, renewDeadlineMs: 600, retryMs: 100 };

/** A path to the fake that can be cut (answers 503), as a network partition of one replica. */
async function cuttable(): Promise<{ kc: k8s.KubeConfig; cut: (yes: boolean) => void; hang: () => void; close: () => Promise<void> }> {
  let cut = false;
  let hang = false;
  const target = new URL(fake.url);
  const server: Server = createServer((req, res) => {
    // A partition without a reset: the request is taken and never answered.
    if (hang) return;
    if (cut) {
      res.writeHead(503).end();
      return;
    }
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ ...fake.kubeconfig(), clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }] });
  return { kc, cut: (yes) => (cut = yes), hang: () => (hang = true), close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** When each replica started and stopped leading. */
const timeline: { identity: string; event: 'started' | 'stopped'; at: number }[] = [];

function elector(kc: k8s.KubeConfig, identity: string, running: Set<string>, lease = LEASE): LeaderElector {
  return new LeaderElector(kc, {
    ...lease,
    identity,
    logger: pino({ level: 'silent' }),
    onStartedLeading: async () => {
      running.add(identity);
      timeline.push({ identity, event: 'started', at: Date.now() });
    },
    onStoppedLeading: async () => {
      running.delete(identity);
      timeline.push({ identity, event: 'stopped', at: Date.now() });
    },
  });
}

beforeAll(async () => {
  fake = await FakeKubeApiServer.start(CORE_KINDS);
});
afterAll(async () => fake?.close());

describe('leader election on a Lease', () => {
  it('has one leader, and a leader that stops hands over at once (well before its lease would expire)', async () => {
    const running = new Set<string>();
    const slow = { ...LEASE, name: 'slow-lease', leaseDurationMs: 6000, renewDeadlineMs: 4000 };
    const [pa, pb] = [await cuttable(), await cuttable()];
    const a = elector(pa.kc, 'replica-a', running, slow);
    const b = elector(pb.kc, 'replica-b', running, slow);
    try {
      a.start();
      await a.leads();
      b.start();
      await new Promise((r) => setTimeout(r, 800));
      expect([a.isLeader, b.isLeader]).toEqual([true, false]);
      expect([...running]).toEqual(['replica-a']);
      const lease = fake.get(CORE_KINDS.find((k) => k.plural === 'leases')!, 'kuma-system', 'slow-lease') as { spec: { holderIdentity: string; renewTime: string } };
      expect(lease.spec.holderIdentity).toBe('replica-a');
      expect(lease.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const t0 = Date.now();
      await a.stop();
      expect(running.has('replica-a')).toBe(false);
      await b.leads(5000);
      expect(Date.now() - t0).toBeLessThan(slow.leaseDurationMs / 2);
    } finally {
      await a.stop();
      await b.stop();
      await Promise.all([pa.close(), pb.close()]);
    }
  }, 20_000);

  it('a leader cut off from the API server stops leading before another takes over, after its lease', async () => {
    const running = new Set<string>();
    const [pb, pc] = [await cuttable(), await cuttable()];
    const b = elector(pb.kc, 'replica-b', running);
    const c = elector(pc.kc, 'replica-c', running);
    try {
      b.start();
      await b.leads();
      c.start();
      await new Promise((r) => setTimeout(r, 300));
      expect(c.isLeader).toBe(false);
      const cutAt = Date.now();
      pb.cut(true);
      await c.leads(5000);
      expect(b.isLeader).toBe(false);
      expect([...running]).toEqual(['replica-c']);
      // Never two leaders: b stopped (its renew deadline) before c started. b had renewed at most a
      // renew deadline before the cut (else it had stopped already), and c waits a lease duration
      // from the last renewal it saw: so not before cut + lease - deadline.
      const bStopped = timeline.find((e) => e.identity === 'replica-b' && e.event === 'stopped' && e.at >= cutAt)!.at;
      const cStarted = timeline.find((e) => e.identity === 'replica-c' && e.event === 'started')!.at;
      expect(bStopped).toBeLessThan(cStarted);
      expect(cStarted - cutAt).toBeGreaterThanOrEqual(LEASE.leaseDurationMs - LEASE.renewDeadlineMs - 50);
      // Reconnected, the old leader sees the new holder and stays a follower.
      pb.cut(false);
      await new Promise((r) => setTimeout(r, 500));
      expect([b.isLeader, c.isLeader]).toEqual([false, true]);
    } finally {
      await b.stop();
      await c.stop();
      await Promise.all([pb.close(), pc.close()]);
    }
  }, 20_000);

  it('a leader whose requests hang (no answer, no reset) stops leading at its renew deadline, before another starts', async () => {
    const running = new Set<string>();
    const [pd, pe] = [await cuttable(), await cuttable()];
    const d = elector(pd.kc, 'replica-d', running, { ...LEASE, name: 'hang-lease' });
    const e = elector(pe.kc, 'replica-e', running, { ...LEASE, name: 'hang-lease' });
    try {
      d.start();
      await d.leads();
      e.start();
      const hungAt = Date.now();
      pd.hang();
      await e.leads(5000);
      const dStopped = timeline.find((x) => x.identity === 'replica-d' && x.event === 'stopped' && x.at >= hungAt);
      const eStarted = timeline.find((x) => x.identity === 'replica-e' && x.event === 'started')!.at;
      expect(dStopped, 'the hung leader stepped down').toBeDefined();
      expect(dStopped!.at).toBeLessThan(eStarted);
      expect([d.isLeader, e.isLeader]).toEqual([false, true]);
    } finally {
      await d.stop();
      await e.stop();
      await Promise.all([pd.close(), pe.close()]);
    }
  }, 20_000);

  it('stop while a renewal is in flight: not leading afterwards, and the lease released', async () => {
    const running = new Set<string>();
    const [pf] = [await cuttable()];
    const f = elector(pf.kc, 'replica-f', running, { ...LEASE, name: 'stop-lease', retryMs: 1 });
    try {
      f.start();
      await f.leads();
      await f.stop();
      await new Promise((r) => setTimeout(r, 200));
      expect(f.isLeader).toBe(false);
      expect(running.has('replica-f')).toBe(false);
      expect((fake.get(CORE_KINDS.find((k) => k.plural === 'leases')!, 'kuma-system', 'stop-lease') as { spec: { holderIdentity: string } }).spec.holderIdentity).toBe('');
    } finally {
      await f.stop();
      await pf.close();
    }
  });
});
