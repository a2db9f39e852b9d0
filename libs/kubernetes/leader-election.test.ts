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
async function cuttable(): Promise<{ kc: k8s.KubeConfig; cut: (yes: boolean) => void; close: () => Promise<void> }> {
  let cut = false;
  const target = new URL(fake.url);
  const server: Server = createServer((req, res) => {
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
  return { kc, cut: (yes) => (cut = yes), close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

function elector(kc: k8s.KubeConfig, identity: string, running: Set<string>): LeaderElector {
  return new LeaderElector(kc, {
    ...LEASE,
    identity,
    logger: pino({ level: 'silent' }),
    onStartedLeading: async () => void running.add(identity),
    onStoppedLeading: async () => void running.delete(identity),
  });
}

beforeAll(async () => {
  fake = await FakeKubeApiServer.start(CORE_KINDS);
});
afterAll(async () => fake?.close());

describe('leader election on a Lease', () => {
  it('has one leader; a leader that stops hands over at once; one cut off steps down and another takes over', async () => {
    const running = new Set<string>();
    const [pa, pb, pc] = [await cuttable(), await cuttable(), await cuttable()];
    const a = elector(pa.kc, 'replica-a', running);
    const b = elector(pb.kc, 'replica-b', running);
    try {
      a.start();
      await a.leads();
      b.start();
      await new Promise((r) => setTimeout(r, 1500));
      expect([a.isLeader, b.isLeader]).toEqual([true, false]);
      expect([...running]).toEqual(['replica-a']);
      const lease = fake.get(CORE_KINDS.find((k) => k.plural === 'leases')!, 'kuma-system', 'kuma-cp-leader') as { spec: { holderIdentity: string; renewTime: string } };
      expect(lease.spec.holderIdentity).toBe('replica-a');
      expect(lease.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

      // A leader that stops releases the lease: the other leads well before a lease duration.
      const t0 = Date.now();
      await a.stop();
      expect(running.has('replica-a')).toBe(false);
      await b.leads(3000);
      expect(Date.now() - t0).toBeLessThan(900);

      // The leader cut off from the API server: it stops leading (renew deadline), and a third
      // replica takes over only after the lease would have expired.
      const c = elector(pc.kc, 'replica-c', running);
      c.start();
      await new Promise((r) => setTimeout(r, 300));
      expect(c.isLeader).toBe(false);
      const cutAt = Date.now();
      pb.cut(true);
      await c.leads(5000);
      const handover = Date.now() - cutAt;
      expect(b.isLeader).toBe(false);
      expect(handover).toBeGreaterThanOrEqual(LEASE.leaseDurationMs);
      expect([...running]).toEqual(['replica-c']);
      // Reconnected, the old leader sees the new holder and stays a follower.
      pb.cut(false);
      await new Promise((r) => setTimeout(r, 500));
      expect([b.isLeader, c.isLeader]).toEqual([false, true]);
      await c.stop();
    } finally {
      await a.stop();
      await b.stop();
      await Promise.all([pa.close(), pb.close(), pc.close()]);
    }
  }, 20_000);
});
