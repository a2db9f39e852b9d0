import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { kumactlWithConfig, type KumactlResult } from '../../libs/testkit/kumactl.ts';

/**
 * kumactl's audit and time-travel commands against one real kuma-cp (memory store): a scripted
 * sequence of writes in mesh "tt", then audit, export, get --at, diff, replay --verify and restore.
 * Each kumactl run is a process start (most of a second), so the read-only runs all start together
 * once the script is written, and each test awaits its own.
 */

const MESH = 'tt';
let cp: KumaCpProcess;
let dir: string;

function configFor(url: string, file: string): string {
  const path = join(dir, file);
  writeFileSync(path, stringify({ contexts: [{ name: 't', controlPlane: 't' }], controlPlanes: [{ name: 't', coordinates: { apiServer: { url } } }], currentContext: 't' }));
  return path;
}

function kumactl(args: string[], config = join(dir, 'config')): Promise<KumactlResult> {
  return kumactlWithConfig(config, dir, args);
}

const dp = (name: string, version: string) => ({
  type: 'Dataplane',
  mesh: MESH,
  name,
  networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': name.replace(/-\d+$/, ''), version } }] },
});

/** Sequences of the scripted writes: s.mesh, then s[1]..s[5] in the order of SCRIPT. */
const s: number[] = [];
const SCRIPT: [op: 'upsert' | 'delete', name: string, version: string][] = [
  ['upsert', 'web-1', 'v1'], // s[1]
  ['upsert', 'db-1', 'v1'], // s[2]
  ['upsert', 'web-1', 'v2'], // s[3]
  ['delete', 'db-1', ''], // s[4]
  ['upsert', 'cache-1', 'v1'], // s[5]
];

async function head(): Promise<number> {
  return (await http(cp.url, 'GET', '/_events?size=1')).body.range.until as number;
}

/** The read-only runs, started together in beforeAll. */
const reads: Record<string, Promise<KumactlResult>> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumactl-audit-'));
  cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory' } });
  configFor(cp.url, 'config');
  expect((await http(cp.url, 'PUT', `/meshes/${MESH}`, { type: 'Mesh', name: MESH, skipCreatingInitialPolicies: ['*'] })).status).toBe(201); // only the Dataplane events below
  s[0] = await head();
  for (const [i, [op, name, version]] of SCRIPT.entries()) {
    const path = `/meshes/${MESH}/dataplanes/${name}`;
    const headers = { 'x-request-id': `req-${i + 1}` };
    const res = op === 'upsert' ? await http(cp.url, 'PUT', path, dp(name, version), headers) : await http(cp.url, 'DELETE', path, undefined, headers);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    s[i + 1] = await head();
  }
  const exportFile = join(dir, 'events.jsonl');
  const runs: Record<string, string[]> = {
    auditTable: ['audit', '--mesh', MESH, '--type', 'dataplane', '--operation', 'upsert', '--actor', 'mesh-system:admin'],
    auditJson: ['audit', '--mesh', MESH, '--type', 'dataplane', '-o', 'json'],
    auditPaged: ['audit', '--mesh', MESH, '--limit', '3', '--page-size', '2'],
    exportFile: ['audit', 'export', '--mesh', MESH, '--type', 'dataplane', '--output-file', exportFile],
    exportStdout: ['audit', 'export', '--mesh', MESH, '--operation', 'delete'],
    getOneAt: ['get', 'dataplane', 'web-1', '--mesh', MESH, '--at', String(s[1]), '-o', 'json'],
    getListAt: ['get', 'dataplanes', '--mesh', MESH, '--at', String(s[2])],
    diff: ['diff', '--from', String(s[2]), '--mesh', MESH],
    replay: ['replay', '--verify'],
    replayWithoutVerify: ['replay'],
    restorePlan: ['restore', '--at', String(s[2]), '--mesh', MESH, '--dry-run'],
    badAt: ['get', 'dataplanes', '--at', 'yesterday'],
  };
  for (const [key, args] of Object.entries(runs)) reads[key] = kumactl(args);
}, 60_000);

afterAll(async () => {
  await cp?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rowsOf = (stdout: string) => stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));

describe('kumactl audit', () => {
  it('lists the events matching the filters as a table', async () => {
    const res = await reads['auditTable']!;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const [header, ...rows] = rowsOf(res.stdout);
    expect(header).toEqual(['SEQ', 'TIME', 'ACTOR', 'SOURCE', 'OPERATION', 'TYPE', 'MESH', 'NAME', 'REQUEST-ID']);
    expect(rows.map((r) => [r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8]])).toEqual(
      [1, 2, 3, 5].map((i) => [String(s[i]), 'mesh-system:admin', 'rest', 'upsert', 'Dataplane', MESH, SCRIPT[i - 1]![1], `req-${i}`]),
    );
    for (const r of rows) expect(Date.parse(r[1]!)).not.toBeNaN();
  });

  it('prints the events as JSON, deletions included', async () => {
    const res = await reads['auditJson']!;
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout);
    expect(json).toMatchObject({ total: 5, truncated: false });
    expect(json.items.map((e: { seq: number; operation: string; name: string }) => [e.seq, e.operation, e.name])).toEqual(
      SCRIPT.map(([op, name], i) => [s[i + 1], op, name]),
    );
    expect(json.items[0].resource.networking.inbound[0].tags.version).toBe('v1');
    expect(json.items[3].resource).toBeUndefined();
  });

  it('follows the next links page by page, and says when --limit cut the list short', async () => {
    const res = await reads['auditPaged']!;
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines.slice(1, 4).map((l) => l.split(/\s+/)[0])).toEqual([String(s[1]), String(s[2]), String(s[3])]);
    expect(lines.slice(4)).toEqual(['', "showing 3 events; more with --limit or 'kumactl audit export'"]);
  });

  it('exports the events as JSON Lines equal to the JSON items, to a file or stdout', async () => {
    const [file, json, stdout] = await Promise.all([reads['exportFile']!, reads['auditJson']!, reads['exportStdout']!]);
    expect(file.code).toBe(0);
    expect(file.stdout).toBe('');
    expect(file.stderr).toBe(`exported 5 events (seq 1-${s[5]})\n`);
    const text = readFileSync(join(dir, 'events.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(JSON.parse(json.stdout).items);

    expect(stdout.code).toBe(0);
    expect(stdout.stderr).toBe(`exported 1 events (seq 1-${s[5]})\n`);
    expect(stdout.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([lines[3]]);
  });
});

describe('kumactl time travel', () => {
  it('gets one resource and a list as they were at a sequence', async () => {
    const one = await reads['getOneAt']!;
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ name: 'web-1', networking: { inbound: [{ tags: { version: 'v1' } }] } });
    const list = await reads['getListAt']!;
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^tt\s+db-1\s+kuma\.io\/service=db version=v1\s+/);
    expect(lines[2]).toMatch(/^tt\s+web-1\s+kuma\.io\/service=web version=v1\s+/);
  });

  it('rejects a point it cannot resolve, with the API\'s reason for the field', async () => {
    const res = await reads['badAt']!;
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^Error: Bad Request \(.*\)\n\* at: "yesterday" is neither a sequence number nor an RFC 3339 time/);
  });

  it('diffs two points: created, updated and deleted resources with their versions', async () => {
    const res = await reads['diff']!;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(rowsOf(res.stdout)).toEqual([
      ['CHANGE', 'TYPE', 'MESH', 'NAME', 'FROM', 'TO'],
      ['created', 'Dataplane', MESH, 'cache-1', '-', String(s[5])],
      ['deleted', 'Dataplane', MESH, 'db-1', String(s[2]), '-'],
      ['updated', 'Dataplane', MESH, 'web-1', String(s[1]), String(s[3])],
    ]);
  });

  it('verifies a replay of the log, and only supports --verify', async () => {
    const res = await reads['replay']!;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      new RegExp(`^OK: rebuilt ${s[5]} events up to sequence ${s[5]} in \\d+\\.\\d+s \\(\\d+ events/s\\); digest sha256:[0-9a-f]{64}; \\d+ checkpoints? verified\\n$`),
    );
    const bare = await reads['replayWithoutVerify']!;
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/^Error: only --verify is supported/);
  });

  it('prints the restore plan with --dry-run and changes nothing', async () => {
    const res = await reads['restorePlan']!;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(rowsOf(res.stdout)).toEqual([
      ['OPERATION', 'TYPE', 'MESH', 'NAME', 'VERSION', 'RESTORED-FROM'],
      ['create', 'Dataplane', MESH, 'db-1', String(s[4]), String(s[2])],
      ['update', 'Dataplane', MESH, 'web-1', String(s[3]), String(s[1])],
      ['delete', 'Dataplane', MESH, 'cache-1', String(s[5]), '-'],
    ]);
    await Promise.all(Object.values(reads));
    expect(await head()).toBe(s[5]);
  });
});

describe('kumactl restore', () => {
  let proxy: Server | undefined;
  afterAll(() => proxy?.close());

  it('refuses with the API\'s detail when a planned resource changed before the restore', async () => {
    await Promise.all(Object.values(reads)); // the read-only runs saw the scripted state
    // A proxy that changes web-1 right after answering the dry run: the restore that follows must be refused.
    let changedAt = 0;
    proxy = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = Buffer.concat(chunks).toString();
        const upstream = await fetch(cp.url + req.url!, {
          method: req.method!,
          headers: { 'user-agent': req.headers['user-agent'] ?? '', ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body } : {}),
        });
        const text = await upstream.text();
        if (req.url === '/_restore' && (JSON.parse(body) as { dryRun?: boolean }).dryRun) {
          await http(cp.url, 'PUT', `/meshes/${MESH}/dataplanes/web-1`, dp('web-1', 'v3'));
          changedAt = await head();
        }
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(text);
      })().catch((err: Error) => res.writeHead(502).end(err.message));
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    const config = configFor(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, 'proxied');

    const res = await kumactl(['restore', '--at', String(s[2]), '--mesh', MESH], config);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^OPERATION\s+TYPE/);
    expect(res.stderr).toBe(
      `Error: Conflict (Dataplane "web-1" changed at sequence ${changedAt}, after the plan was made at ${s[5]}: nothing was restored; plan again)\n`,
    );
    expect(await head()).toBe(changedAt);
    expect((await http(cp.url, 'GET', `/meshes/${MESH}/dataplanes/cache-1`)).status).toBe(200);
  });

  it('restores a mesh to a point, and then has nothing left to restore', async () => {
    const before = await head();
    const res = await kumactl(['restore', '--at', String(s[2]), '--mesh', MESH]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines.slice(1, 4).map((l) => l.split(/\s+/).slice(0, 4).join(' '))).toEqual([
      `create Dataplane ${MESH} db-1`,
      `update Dataplane ${MESH} web-1`,
      `delete Dataplane ${MESH} cache-1`,
    ]);
    expect(lines.slice(4)).toEqual(['', `restored 3 resources (sequences ${before + 1}-${before + 3})`]);

    const [list, again] = await Promise.all([
      kumactl(['get', 'dataplanes', '--mesh', MESH, '-o', 'json']),
      kumactl(['restore', '--at', String(s[2]), '--mesh', MESH, '--dry-run']),
    ]);
    expect(JSON.parse(list.stdout).items.map((d: { name: string; networking: { inbound: { tags: { version: string } }[] } }) => [d.name, d.networking.inbound[0]!.tags.version])).toEqual([
      ['db-1', 'v1'],
      ['web-1', 'v1'],
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`nothing to restore: the resources of mesh "${MESH}" are as they were at sequence ${s[2]}\n`);
  });
});
