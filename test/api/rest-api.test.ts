import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';

let cp: KumaCpProcess;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(cp.url, method, path, body, headers);

const dataplane = (name: string, mesh = 'default', port = 8080) => ({
  type: 'Dataplane',
  mesh,
  name,
  networking: { address: '10.0.0.1', inbound: [{ port, servicePort: 80, tags: { 'kuma.io/service': 'backend', 'kuma.io/protocol': 'http' } }] },
});

/** Everything the API can show, to prove a rejected request changed nothing. */
async function snapshot(): Promise<unknown> {
  const meshes = (await api('GET', '/meshes?size=1000')).body.items;
  const out: Record<string, unknown> = { meshes };
  for (const plural of ['dataplanes', 'secrets']) out[plural] = (await api('GET', `/${plural}?size=1000`)).body.items;
  return out;
}

beforeAll(async () => {
  cp = await KumaCpProcess.start();
});
afterAll(async () => cp?.destroy());

describe('REST API', () => {
  it('answers the index and creates the default Mesh', async () => {
    const index = await api('GET', '/');
    expect(index.status).toBe(200);
    expect(index.body).toMatchObject({ tagline: 'Kuma', product: 'Kuma', version: '2.14.0' });
    const mesh = await api('GET', '/meshes/default');
    expect(mesh.status).toBe(200);
    expect(mesh.body).toMatchObject({ type: 'Mesh', name: 'default' });
  });

  it('creates with 201, updates with 200, and reads its own writes at once', async () => {
    const created = await api('PUT', '/meshes/default/dataplanes/dp-1', dataplane('dp-1'));
    expect(created.status).toBe(201);
    const read = await api('GET', '/meshes/default/dataplanes/dp-1');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ type: 'Dataplane', mesh: 'default', name: 'dp-1', networking: { address: '10.0.0.1' } });
    expect(Object.keys(read.body).slice(0, 5)).toEqual(['type', 'mesh', 'name', 'creationTime', 'modificationTime']);
    const updated = await api('PUT', '/meshes/default/dataplanes/dp-1', dataplane('dp-1', 'default', 9090));
    expect(updated.status).toBe(200);
    const again = await api('GET', '/meshes/default/dataplanes/dp-1');
    expect(again.body.networking.inbound[0].port).toBe(9090);
    expect(again.body.creationTime).toBe(read.body.creationTime);
    expect(Number(JSON.parse(again.headers.get('etag')!))).toBeGreaterThan(Number(JSON.parse(read.headers.get('etag')!)));
  });

  it('accepts YAML bodies', async () => {
    const yaml = `type: Mesh\nname: yaml-mesh\nmtls:\n  enabledBackend: ca-1\n  backends:\n  - name: ca-1\n    type: builtin\n`;
    const res = await api('PUT', '/meshes/yaml-mesh', yaml, { 'content-type': 'application/yaml' });
    expect(res.status).toBe(201);
    expect((await api('GET', '/meshes/yaml-mesh')).body.mtls.enabledBackend).toBe('ca-1');
  });

  it('lists with total, items and next, pages with size and offset, and filters by label', async () => {
    await api('PUT', '/meshes/paging', { type: 'Mesh', name: 'paging' });
    for (let i = 0; i < 5; i++) {
      const dp = { ...dataplane(`p-${i}`, 'paging'), labels: { team: i % 2 === 0 ? 'even' : 'odd' } };
      expect((await api('PUT', `/meshes/paging/dataplanes/p-${i}`, dp)).status).toBe(201);
    }
    const page1 = await api('GET', '/meshes/paging/dataplanes?size=2');
    expect(page1.body.total).toBe(5);
    expect(page1.body.items.map((i: { name: string }) => i.name)).toEqual(['p-0', 'p-1']);
    expect(page1.body.next).toBe(`${cp.url}/meshes/paging/dataplanes?offset=2&size=2`);
    const page3 = await api('GET', new URL(page1.body.next).pathname + '?offset=4&size=2');
    expect(page3.body.items.map((i: { name: string }) => i.name)).toEqual(['p-4']);
    expect(page3.body.next).toBeNull();
    const even = await api('GET', '/meshes/paging/dataplanes?filter[labels.team]=even');
    expect(even.body.items.map((i: { name: string }) => i.name)).toEqual(['p-0', 'p-2', 'p-4']);
    const byMesh = await api('GET', '/dataplanes?filter[labels.kuma.io/mesh]=paging');
    expect(byMesh.body.total).toBe(5);
    const tooBig = await api('GET', '/meshes/paging/dataplanes?size=1001');
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.invalid_parameters).toEqual([{ field: 'size', reason: 'invalid page size of 1001. Maximum page size is 1000' }]);
    expect((await api('GET', '/meshes/paging/dataplanes?offset=abc')).status).toBe(400);
  });

  it('deletes resources; a Mesh goes with what it contains but not while Dataplanes are attached', async () => {
    await api('PUT', '/meshes/doomed', { type: 'Mesh', name: 'doomed' });
    await api('PUT', '/meshes/doomed/dataplanes/d1', dataplane('d1', 'doomed'));
    await api('PUT', '/meshes/doomed/secrets/s1', { type: 'Secret', mesh: 'doomed', name: 's1', data: 'c2VjcmV0' });
    const refused = await api('DELETE', '/meshes/doomed');
    expect(refused.status).toBe(400);
    expect(refused.body.invalid_parameters).toEqual([{ field: 'mesh', reason: 'unable to delete mesh, there are still some dataplanes attached' }]);
    expect((await api('DELETE', '/meshes/doomed/dataplanes/d1')).status).toBe(200);
    expect((await api('GET', '/meshes/doomed/dataplanes/d1')).status).toBe(404);
    expect((await api('DELETE', '/meshes/doomed/dataplanes/d1')).status).toBe(404);
    expect((await api('DELETE', '/meshes/doomed')).status).toBe(200);
    expect((await api('GET', '/meshes/doomed')).status).toBe(404);
    expect((await api('GET', '/secrets')).body.items.filter((s: { mesh: string }) => s.mesh === 'doomed')).toEqual([]);
    // recreating the mesh does not resurrect its old contents
    await api('PUT', '/meshes/doomed', { type: 'Mesh', name: 'doomed' });
    expect((await api('GET', '/meshes/doomed/secrets')).body.total).toBe(0);
  });

  describe('rejects bad input precisely and changes nothing', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- error bodies are checked field by field
    const cases: [string, string, string, unknown, Record<string, string>, number, (body: any) => void][] = [
      ['malformed JSON', 'PUT', '/meshes/default/dataplanes/dp-1', '{"type": "Dataplane",', { 'content-type': 'application/json' }, 400,
        (b) => expect(b.detail).toMatch(/^invalid Dataplane object: /)],
      ['malformed YAML', 'PUT', '/meshes/default/dataplanes/dp-1', 'type: Dataplane\n  name: [x', { 'content-type': 'application/yaml' }, 400,
        (b) => expect(b.title).toBe('Bad Request')],
      ['two YAML documents', 'PUT', '/meshes/m1', 'type: Mesh\nname: m1\n---\ntype: Mesh\nname: m2\n', { 'content-type': 'application/yaml' }, 400,
        (b) => expect(b.detail).toMatch(/expected one resource/)],
      ['an unknown plural', 'PUT', '/meshes/default/frobnicators/x', { type: 'Frobnicator', name: 'x' }, {}, 404,
        (b) => expect(b).toMatchObject({ title: 'Not Found', detail: 'Page Not Found' })],
      ['an unknown type in the body', 'PUT', '/meshes/default/dataplanes/dp-1', { ...dataplane('dp-1'), type: 'Frobnicator' }, {}, 400,
        (b) => expect(b.invalid_parameters).toEqual([{ field: 'type', reason: 'type from the URL has to be the same as in body' }])],
      ['a name that disagrees with the URL', 'PUT', '/meshes/default/dataplanes/dp-1', dataplane('dp-2'), {}, 400,
        (b) => expect(b.invalid_parameters).toEqual([{ field: 'name', reason: 'name from the URL has to be the same as in body' }])],
      ['a mesh that disagrees with the URL', 'PUT', '/meshes/default/dataplanes/dp-1', dataplane('dp-1', 'other'), {}, 400,
        (b) => expect(b.invalid_parameters).toEqual([{ field: 'mesh', reason: 'mesh from the URL has to be the same as in body' }])],
      ['an invalid name', 'PUT', '/meshes/Bad_Name', { type: 'Mesh', name: 'Bad_Name' }, {}, 400,
        (b) => expect(b.invalid_parameters[0].field).toBe('name')],
      ['a name over 253 characters', 'PUT', `/meshes/${'a'.repeat(254)}`, { type: 'Mesh', name: 'a'.repeat(254) }, {}, 400,
        (b) => expect(b.invalid_parameters).toEqual([{ field: 'name', reason: 'value length must less or equal 253' }])],
      ['a body over the size limit', 'PUT', '/meshes/huge', { type: 'Mesh', name: 'huge', x: 'y'.repeat(600 * 1024) }, {}, 413,
        (b) => expect(b.title).toBe('Payload Too Large')],
      ['a Dataplane in a mesh that does not exist', 'PUT', '/meshes/nowhere/dataplanes/dp-1', dataplane('dp-1', 'nowhere'), {}, 404,
        (b) => expect(b.invalid_parameters).toEqual([{ field: 'mesh', reason: 'mesh of name nowhere is not found' }])],
      ['an invalid update of an existing Dataplane', 'PUT', '/meshes/default/dataplanes/dp-1', { ...dataplane('dp-1'), networking: { address: '', inbound: [{ port: 0 }] } }, {}, 400,
        (b) => expect(b.invalid_parameters.map((p: { field: string }) => p.field)).toEqual(['networking.address', 'networking.inbound[0].port'])],
      ['a stale If-Match', 'PUT', '/meshes/default/dataplanes/dp-1', dataplane('dp-1'), { 'if-match': '"1"' }, 409,
        (b) => expect(b.title).toBe('Conflict')],
      ['a malformed If-Match', 'PUT', '/meshes/default/dataplanes/dp-1', dataplane('dp-1'), { 'if-match': 'yesterday' }, 400,
        (b) => expect(b.detail).toMatch(/invalid If-Match/)],
    ];
    it.each(cases)('%s', async (_, method, path, body, headers, status, check) => {
      await api('PUT', '/meshes/default/dataplanes/dp-1', dataplane('dp-1'));
      const before = await snapshot();
      const res = await api(method, path, body, headers);
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ type: '/std-errors', status });
      check(res.body);
      expect(await snapshot()).toEqual(before);
    });
  });

  it('lets 50 concurrent read-modify-write writers each win exactly one version, losing no update', async () => {
    await api('PUT', '/meshes/default/dataplanes/counter', { ...dataplane('counter'), labels: { count: '0' } });
    const winners: number[] = [];
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (;;) {
          const cur = await api('GET', '/meshes/default/dataplanes/counter');
          const next = { ...cur.body, labels: { ...cur.body.labels, count: String(Number(cur.body.labels.count) + 1) } };
          const res = await api('PUT', '/meshes/default/dataplanes/counter', next, { 'if-match': cur.headers.get('etag')! });
          if (res.status === 200) {
            winners.push(Number(JSON.parse(res.headers.get('etag')!)));
            return;
          }
          expect(res.status).toBe(409);
          conflicts++;
        }
      }),
    );
    expect(new Set(winners).size).toBe(50);
    const final = await api('GET', '/meshes/default/dataplanes/counter');
    expect(final.body.labels.count).toBe('50');
    expect(Number(JSON.parse(final.headers.get('etag')!))).toBe(Math.max(...winners));
    expect(conflicts).toBeGreaterThan(0);
  });

  it('lets exactly one of 50 blind concurrent creates win', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => api('PUT', '/meshes/default/dataplanes/racer', dataplane('racer'), { 'if-match': '"0"' })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(49);
  });

  it('keeps state across a graceful restart and exits 0 on SIGTERM', async () => {
    await api('PUT', '/meshes/default/dataplanes/survivor', dataplane('survivor'));
    const before = await snapshot();
    expect(await cp.stop('SIGTERM')).toBe(0);
    await cp.restart();
    expect(await snapshot()).toEqual(before);
  });

  it('serves readiness and Prometheus metrics on the diagnostics port', async () => {
    await api('PUT', '/meshes/default/dataplanes/metered', dataplane('metered'));
    await api('GET', '/');
    const ready = await fetch(`http://127.0.0.1:${cp.diagnosticsPort}/ready`);
    expect(ready.status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${cp.diagnosticsPort}/metrics`)).text();
    expect(text).toMatch(/kuma_api_requests_total\{method="GET",route="\/",status_code="200"\} \d+/);
    expect(text).toMatch(/kuma_projection_lag_events\{projection="current-state"\} 0/);
    expect(text).toContain('kuma_event_log_append_duration_seconds_bucket');
  });
});
