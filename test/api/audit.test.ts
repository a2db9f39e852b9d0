import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';

/**
 * Audit and replay against a real kuma-cp on each store: a scripted sequence of writes by
 * different actors, then history, the audit feed, time travel, diff, replay-verify, restore
 * and (for persistent stores) a restart from a checkpoint, all checked against the script.
 */

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => nats?.stop());

const MESH = 'audit';
const dp = (name: string, version: string, labels: Record<string, string> = {}) => ({
  type: 'Dataplane',
  mesh: MESH,
  name,
  labels,
  networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': name.replace(/-\d+$/, ''), version } }] },
});

interface Step {
  readonly seq: number;
  readonly op: 'upsert' | 'delete';
  readonly name: string;
  readonly source: 'rest' | 'kumactl';
  readonly requestId: string;
  readonly time: string;
  /** The Dataplanes of the mesh (name -> inbound version tag) after this step. */
  readonly dataplanes: Record<string, string>;
}

type Store = 'memory' | 'embedded' | 'nats';

describe.each<Store>(['memory', 'embedded', 'nats'])('audit and replay on the %s store', (store) => {
  let cp: KumaCpProcess;
  const steps: Step[] = [];
  const seqOf = async (name: string) => (await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes/${name}/_history`)).body.items.at(-1).version as number;

  beforeAll(async () => {
    const env: Record<string, string> = { KUMA_STORE_TYPE: store, KUMA_STORE_CHECKPOINTS_INTERVAL: '4' };
    if (store === 'nats') Object.assign(env, { KUMA_STORE_NATS_URL: nats.url, KUMA_STORE_NATS_STREAM: `AUDIT_${Date.now()}` });
    cp = await KumaCpProcess.start({ env });
    expect((await http(cp.url, 'PUT', `/meshes/${MESH}`, { type: 'Mesh', name: MESH, skipCreatingInitialPolicies: ['*'] })).status).toBe(201); // only the Dataplane events below

    const state: Record<string, string> = {};
    const script: [Step['op'], string, string, Step['source']][] = [
      ['upsert', 'web-1', 'v1', 'kumactl'],
      ['upsert', 'web-1', 'v2', 'rest'],
      ['upsert', 'db-1', 'v1', 'rest'],
      ['delete', 'web-1', '', 'kumactl'],
      ['upsert', 'db-1', 'v2', 'kumactl'],
      ['upsert', 'cache-1', 'v1', 'rest'],
    ];
    for (const [i, [op, name, version, source]] of script.entries()) {
      const requestId = `req-${store}-${i}`;
      const headers = { 'x-request-id': requestId, 'user-agent': source === 'kumactl' ? 'kumactl/2.14.0' : 'curl/8' };
      const path = `/meshes/${MESH}/dataplanes/${name}`;
      const res = op === 'upsert' ? await http(cp.url, 'PUT', path, dp(name, version), headers) : await http(cp.url, 'DELETE', path, undefined, headers);
      expect(res.status).toBeLessThan(300);
      if (op === 'upsert') state[name] = version;
      else delete state[name];
      const seq = await seqOf(name);
      const event = (await http(cp.url, 'GET', `/_events?since=${seq}&until=${seq}`)).body.items[0];
      steps.push({ seq, op, name, source, requestId, time: event.time, dataplanes: { ...state } });
      await new Promise((r) => setTimeout(r, 5)); // distinct event times, so time points resolve to one step
    }
  }, 60_000);
  afterAll(async () => cp?.destroy());

  const listAt = async (at: string | number) => {
    const res = await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes?at=${encodeURIComponent(String(at))}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return {
      at: Number(res.headers.get('x-kuma-at')),
      dataplanes: Object.fromEntries(res.body.items.map((i: { name: string; networking: { inbound: { tags: Record<string, string> }[] } }) => [i.name, i.networking.inbound[0]!.tags['version']])),
    };
  };

  it('feeds every change with its actor, filtered, paged with a cursor, and streamed as JSON Lines', async () => {
    const all = (await http(cp.url, 'GET', `/_events?mesh=${MESH}`)).body;
    expect(all.next).toBeNull();
    expect(all.items.map((e: { seq: number; operation: string; name: string; actor: { source: string; requestId: string; subject: string } }) => [e.seq, e.operation, e.name, e.actor.source, e.actor.requestId, e.actor.subject])).toEqual(
      // The authenticated subject: a request from localhost without a token is the admin (Kuma's default).
      steps.map((s) => [s.seq, s.op, s.name, s.source, s.requestId, 'mesh-system:admin']),
    );
    expect(all.items[0].resource).toMatchObject({ type: 'Dataplane', mesh: MESH, name: 'web-1' });

    const deletes = (await http(cp.url, 'GET', `/_events?mesh=${MESH}&operation=delete`)).body.items;
    expect(deletes.map((e: { name: string }) => e.name)).toEqual(['web-1']);
    const db = (await http(cp.url, 'GET', `/_events?type=dataplanes&name=db-1`)).body.items;
    expect(db.map((e: { seq: number }) => e.seq)).toEqual(steps.filter((s) => s.name === 'db-1').map((s) => s.seq));
    const byKumactl = (await http(cp.url, 'GET', `/_events?mesh=${MESH}&actor=mesh-system:admin&since=${steps[2]!.time}`)).body.items;
    expect(byKumactl.map((e: { seq: number }) => e.seq)).toEqual(steps.slice(2).map((s) => s.seq));

    // cursor paging: 2 at a time until next is null
    const paged: number[] = [];
    let next: string | null = `/_events?mesh=${MESH}&size=2`;
    while (next) {
      const page: { items: { seq: number }[]; next: string | null } = (await http(cp.url, 'GET', next.replace(/^https?:\/\/[^/]+/, ''))).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((e) => e.seq));
      next = page.next;
    }
    expect(paged).toEqual(steps.map((s) => s.seq));

    const res = await fetch(`${cp.url}/_events?mesh=${MESH}`, { headers: { accept: 'application/x-ndjson' } });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(all.items);
  });

  it('answers every read as of any point, by sequence or by time', async () => {
    for (const s of steps) {
      expect(await listAt(s.seq)).toEqual({ at: s.seq, dataplanes: s.dataplanes });
      expect(await listAt(s.time)).toEqual({ at: s.seq, dataplanes: s.dataplanes });
    }
    const before = steps[2]!;
    const one = await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes/web-1?at=${before.seq}`);
    expect(one.status).toBe(200);
    expect(one.body.networking.inbound[0].tags.version).toBe('v2');
    expect(one.headers.get('etag')).toBeNull(); // a past version cannot be written against
    expect((await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes/web-1?at=${steps[3]!.seq}`)).status).toBe(404);
    expect((await http(cp.url, 'GET', `/meshes/${MESH}?at=${steps[0]!.seq}`)).status).toBe(200);
    expect((await http(cp.url, 'GET', `/meshes?at=1`)).body.total).toBe(1); // only the default mesh at the start
  });

  it('lists a resource\'s history, deletions included', async () => {
    const h = (await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes/web-1/_history`)).body;
    expect(h.items.map((i: { version: number; operation: string; actor: { source: string } }) => [i.version, i.operation, i.actor.source])).toEqual(
      steps.filter((s) => s.name === 'web-1').map((s) => [s.seq, s.op, s.source]),
    );
    expect(h.items[1].diff).toContainEqual({ op: 'replace', path: '/networking/inbound/0/tags/version', value: 'v2' });
  });

  it('diffs two points', async () => {
    const d = (await http(cp.url, 'GET', `/_diff?from=${steps[1]!.seq}&to=${steps[5]!.seq}&mesh=${MESH}`)).body;
    expect(d.items.map((i: { change: string; name: string }) => [i.change, i.name])).toEqual([
      ['created', 'cache-1'],
      ['created', 'db-1'],
      ['deleted', 'web-1'],
    ]);
  });

  it('refuses points and filters it cannot answer with 400 and the reason', async () => {
    const head = steps.at(-1)!.seq + 1000;
    const cases: [string, string, RegExp][] = [
      [`/meshes/${MESH}/dataplanes?at=${head}`, 'at', /in the future/],
      [`/meshes/${MESH}/dataplanes?at=2999-01-01T00:00:00Z`, 'at', /in the future/],
      [`/meshes/${MESH}/dataplanes?at=1999-01-01T00:00:00Z`, 'at', /before the start of the log/],
      [`/meshes/${MESH}/dataplanes?at=0`, 'at', /before the start of the log/],
      [`/meshes/${MESH}/dataplanes/web-1?at=yesterday`, 'at', /neither a sequence number nor an RFC 3339 time/],
      ['/_events?colour=blue', 'colour', /unknown parameter/],
      ['/_events?cursor=not-a-cursor', 'cursor', /malformed cursor/],
      ['/_events?size=5000', 'size', /follow the "next" cursor, or stream/],
      ['/_events?since=later', 'since', /not a sequence number/],
      ['/_events?type=Gadget', 'type', /unknown resource type/],
      ['/_diff?to=3', 'from', /required/],
    ];
    for (const [path, field, reason] of cases) {
      const res = await http(cp.url, 'GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.invalid_parameters[0].field, path).toBe(field);
      expect(res.body.invalid_parameters[0].reason, path).toMatch(reason);
    }
  });

  it('verifies a replay from sequence 1 against the live state and its checkpoints', async () => {
    const res = await fetch(`${cp.url}/_replay/verify`, { method: 'POST' });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    const result = lines.at(-1).result;
    expect(lines.some((l) => l.progress)).toBe(true);
    expect(result.ok).toBe(true);
    expect(result.differences).toEqual([]);
    expect(result.rebuiltDigest).toBe(result.liveDigest);
    expect(result.checkpoints.length).toBeGreaterThan(0); // interval 4: several were passed and matched
    expect(result.checkpoints.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });

  it('restores a mesh to a point by appending events, and refuses a plan that lost a race', async () => {
    const target = steps[2]!; // web-1 v2, db-1 v1
    const plan = (await http(cp.url, 'POST', '/_restore', { at: target.seq, mesh: MESH, dryRun: true })).body;
    expect(plan.changes.map((c: { operation: string; name: string }) => [c.operation, c.name])).toEqual([
      ['update', 'db-1'],
      ['create', 'web-1'],
      ['delete', 'cache-1'],
    ]);
    expect(plan.applied).toBe(0);

    // someone writes db-1 after the plan: applying the stale plan is refused and changes nothing
    expect((await http(cp.url, 'PUT', `/meshes/${MESH}/dataplanes/db-1`, dp('db-1', 'v3'))).status).toBe(200);
    const headBefore = (await http(cp.url, 'GET', '/_events?size=1&since=1')).body.range.until;
    const lost = await http(cp.url, 'POST', '/_restore', { at: target.seq, mesh: MESH, basedOn: plan.position });
    expect(lost.status).toBe(409);
    expect(lost.body.detail).toMatch(/nothing was restored/);
    expect((await http(cp.url, 'GET', '/_events?size=1&since=1')).body.range.until).toBe(headBefore);

    const done = await http(cp.url, 'POST', '/_restore', { at: target.seq, mesh: MESH }, { 'x-request-id': 'restore-1' });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.applied).toBe(3);
    expect((await listAt(done.body.sequences.to)).dataplanes).toEqual(target.dataplanes);
    expect((await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes`)).body.items.map((i: { name: string }) => i.name)).toEqual(['db-1', 'web-1']);
    const feed = (await http(cp.url, 'GET', `/_events?since=${done.body.sequences.from}`)).body.items;
    expect(feed.map((e: { actor: { source: string; requestId: string } }) => [e.actor.source, e.actor.requestId])).toEqual(Array(3).fill(['restore', 'restore-1']));
    // history is not rewritten: the past still reads as it was
    expect(await listAt(steps[5]!.seq)).toEqual({ at: steps[5]!.seq, dataplanes: steps[5]!.dataplanes });
    // nothing left to restore
    expect((await http(cp.url, 'POST', '/_restore', { at: target.seq, mesh: MESH, dryRun: true })).body.changes).toEqual([]);
  });

  it.skipIf(store === 'memory')('starts from a checkpoint after a restart, and reads the same', async () => {
    const before = (await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes`)).body;
    expect(await cp.stop()).toBe(0);
    cp.output = '';
    await cp.restart();
    expect(cp.output).toMatch(/"fromCheckpoint":\d+/);
    expect((await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes`)).body).toEqual(before);
    expect(await listAt(steps[3]!.seq)).toEqual({ at: steps[3]!.seq, dataplanes: steps[3]!.dataplanes });
  });
});
