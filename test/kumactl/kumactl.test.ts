import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { kumactlWithConfig } from '../../libs/testkit/kumactl.ts';

let cp: KumaCpProcess;
let dir: string;

function kumactl(args: string[], stdin?: string) {
  return kumactlWithConfig(join(dir, 'config'), dir, args, stdin);
}

const DPS = `
type: Dataplane
mesh: default
name: web-1
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    servicePort: 80
    tags:
      kuma.io/service: web
      version: v1
---
type: Dataplane
mesh: default
name: web-2
networking:
  address: 10.0.0.2
  inbound:
  - port: 8080
    tags:
      kuma.io/service: web
      version: v2
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumactl-'));
  cp = await KumaCpProcess.start();
  const added = await kumactl(['config', 'control-planes', 'add', '--name', 'test', '--address', cp.url]);
  expect(added.stderr).toBe('');
  expect(added.stdout).toBe('added Control Plane "test"\nswitched active Control Plane to "test"\n');
});
afterAll(async () => {
  await cp?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('kumactl', () => {
  it('keeps control planes in its config file, in Kuma\'s format', async () => {
    const config = parse(readFileSync(join(dir, 'config'), 'utf8'));
    expect(config).toMatchObject({ currentContext: 'test', contexts: [{ name: 'local' }, { name: 'test', controlPlane: 'test' }] });
    expect(config.controlPlanes).toContainEqual({ name: 'test', coordinates: { apiServer: { url: cp.url } } });
    const list = await kumactl(['config', 'control-planes', 'list']);
    expect(list.stdout).toMatch(/^ACTIVE\s+NAME\s+ADDRESS\n\s+local\s+http:\/\/localhost:5681\n\*\s+test\s+http/);
    const dup = await kumactl(['config', 'control-planes', 'add', '--name', 'test', '--address', cp.url]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('Control Plane with name "test" already exists. Use --overwrite to replace an existing one.');
    const bad = await kumactl(['config', 'control-planes', 'add', '--name', 'x', '--address', 'not a url']);
    expect(bad.stderr).toMatch(/API Server URL is invalid/);
  });

  it('applies multi-document YAML from a file and lists it as a table', async () => {
    writeFileSync(join(dir, 'dps.yaml'), DPS);
    const applied = await kumactl(['apply', '-f', join(dir, 'dps.yaml')]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const table = await kumactl(['get', 'dataplanes']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MESH\s+NAME\s+TAGS\s+ADDRESS\s+AGE$/);
    expect(lines[1]).toMatch(/^default\s+web-1\s+kuma\.io\/service=web version=v1\s+10\.0\.0\.1\s+\d+s$/);
    expect(lines[2]).toMatch(/^default\s+web-2\s+/);
  });

  it('applies from stdin, and --dry-run applies nothing', async () => {
    const dry = await kumactl(['apply', '-f', '-', '--dry-run'], 'type: Mesh\nname: dry\n');
    expect(dry.code).toBe(0);
    expect(parse(dry.stdout)).toEqual({ type: 'Mesh', name: 'dry' });
    expect((await http(cp.url, 'GET', '/meshes/dry')).status).toBe(404);
    const real = await kumactl(['apply', '-f', '-'], 'type: Mesh\nname: wet\n');
    expect(real.code).toBe(0);
    expect((await http(cp.url, 'GET', '/meshes/wet')).status).toBe(200);
  });

  it('gets one resource as yaml and json', async () => {
    const yaml = parse((await kumactl(['get', 'dataplane', 'web-1', '-o', 'yaml'])).stdout);
    expect(yaml).toMatchObject({ type: 'Dataplane', mesh: 'default', name: 'web-1' });
    const json = JSON.parse((await kumactl(['get', 'meshes', '-o', 'json'])).stdout);
    expect(json.items.map((m: { name: string }) => m.name)).toEqual(['default', 'wet']);
    const meshes = await kumactl(['get', 'meshes']);
    expect(meshes.stdout.split('\n')[0]).toMatch(/^NAME\s+mTLS\s+LOCALITY\s+ZONEEGRESS\s+AGE$/);
  });

  it('shows the API\'s field-level reasons and applies nothing from an invalid file', async () => {
    const bad = `type: Mesh\nname: good-one\n---\ntype: Dataplane\nmesh: default\nname: broken\nnetworking:\n  address: 10.0.0.9\n  inbound:\n  - port: 70000\n    tags:\n      version: v1\n`;
    const res = await kumactl(['apply', '-f', '-'], bad);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('document 2 (Dataplane "broken")');
    expect(res.stderr).toContain('* networking.inbound[0].port: port must be in the range [1, 65535]');
    expect(res.stderr).toContain('* networking.inbound[0].tags["kuma.io/service"]: tag has to exist');
    expect((await http(cp.url, 'GET', '/meshes/good-one')).status).toBe(404);
    const server = await kumactl(['apply', '-f', '-'], 'type: Dataplane\nmesh: nowhere\nname: x\nnetworking:\n  address: 1.2.3.4\n  inbound:\n  - port: 1\n    tags:\n      kuma.io/service: a\n');
    expect(server.code).toBe(1);
    expect(server.stderr).toContain('* mesh: mesh of name nowhere is not found');
    const malformed = await kumactl(['apply', '-f', '-'], 'type: Mesh\n  name: [');
    expect(malformed.stderr).toMatch(/stdin: YAML document 1 is malformed/);
  });

  it('bounds the files it applies: deep nesting, alias bombs and prototype keys are errors, not crashes, and apply nothing', async () => {
    const deep = await kumactl(['apply', '-f', '-'], `type: Mesh\nname: deep\nconstraints: ${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}\n`);
    expect(deep.code).toBe(1);
    expect(deep.stderr).toMatch(/stdin: YAML document 1 is malformed: line 3, column \d+: nesting is deeper than 100 levels/);
    const bomb = await kumactl(['apply', '-f', '-'], 'type: Mesh\nname: bomb\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n');
    expect(bomb.code).toBe(1);
    expect(bomb.stderr).toMatch(/alias/i);
    const proto = await kumactl(['apply', '-f', '-'], 'type: Mesh\nname: proto\n__proto__:\n  mtls: {}\n');
    expect(proto.code).toBe(1);
    expect(proto.stderr).toMatch(/__proto__: "__proto__" is not allowed as a key/);
    for (const name of ['deep', 'bomb', 'proto']) expect((await http(cp.url, 'GET', `/meshes/${name}`)).status).toBe(404);
  });

  it('deletes, and names what is missing', async () => {
    expect((await kumactl(['delete', 'dataplane', 'web-2'])).stdout).toBe('deleted Dataplane "web-2"\n');
    const again = await kumactl(['delete', 'dataplane', 'web-2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('Error: there is no Dataplane with name "web-2"\n');
    const unknown = await kumactl(['get', 'frobnicators']);
    expect(unknown.stderr).toBe(
      'Error: unknown TYPE: frobnicators. Allowed values: access-role-bindings, access-roles, dataplanes, global-secrets, meshaccesslogs, meshcircuitbreakers, ' +
        'meshes, meshfaultinjections, meshhealthchecks, meshhttproutes, meshidentities, meshloadbalancingstrategies, meshmetrics, meshpassthroughs, ' +
        'meshproxypatches, meshratelimits, meshretries, meshtcproutes, meshtimeouts, meshtlses, meshtraces, meshtrafficpermissions, meshtrusts, secrets\n',
    );
  });

  it('inspects dataplanes with Kuma\'s columns', async () => {
    const res = await kumactl(['inspect', 'dataplanes']);
    const [header, row] = res.stdout.split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'MESH', 'NAME', 'TAGS', 'STATUS', 'LAST CONNECTED AGO', 'LAST UPDATED AGO', 'TOTAL UPDATES', 'TOTAL ERRORS',
      'CERT REGENERATED AGO', 'CERT EXPIRATION', 'CERT REGENERATIONS', 'KUMA-DP VERSION', 'ENVOY VERSION',
    ]);
    expect(row).toMatch(/^default\s+web-1\s+kuma\.io\/service=web version=v1\s+unknown\s+never/);
  });

  it('shows the history of a resource, deleted ones included, with actors and changes', async () => {
    writeFileSync(join(dir, 'h1.yaml'), 'type: Mesh\nname: hist\n');
    writeFileSync(join(dir, 'h2.yaml'), 'type: Mesh\nname: hist\nlabels:\n  team: a\n');
    await kumactl(['apply', '-f', join(dir, 'h1.yaml')]);
    await kumactl(['apply', '-f', join(dir, 'h2.yaml')]);
    await http(cp.url, 'DELETE', '/meshes/hist');
    const json = JSON.parse((await kumactl(['history', 'mesh', 'hist', '-o', 'json'])).stdout);
    expect(json.items.map((i: { operation: string; actor: { source: string } }) => [i.operation, i.actor.source])).toEqual([
      ['upsert', 'kumactl'],
      ['upsert', 'kumactl'],
      ['delete', 'rest'],
    ]);
    expect(json.items[1].diff).toEqual([{ op: 'add', path: '/labels', value: { team: 'a' } }]);
    expect(json.items[2].resource).toBeNull();
    const table = (await kumactl(['history', 'mesh', 'hist'])).stdout.split('\n');
    expect(table[0]).toMatch(/^VERSION\s+TIME\s+ACTOR\s+SOURCE\s+OPERATION\s+CHANGES$/);
    expect(table[2]).toMatch(/^\d+\s+\S+\s+mesh-system:admin\s+kumactl\s+upsert\s+add \/labels$/);
    const dpHistory = await http(cp.url, 'GET', '/meshes/default/dataplanes/web-1/_history');
    expect(dpHistory.body.items[0].resource).toMatchObject({ type: 'Dataplane', name: 'web-1' });
    const missing = await kumactl(['history', 'dataplane', 'never-existed']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Not found/);
  });

  it('prints versions and fails clearly when the control plane is down', async () => {
    expect((await kumactl(['version', '--detailed'])).stdout).toBe('Client: Kuma 2.14.0\nServer: Kuma 2.14.0\n');
    await kumactl(['config', 'control-planes', 'add', '--name', 'down', '--address', 'http://127.0.0.1:1', '--skip-check']);
    const down = await kumactl(['get', 'meshes']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/could not connect to the Control Plane API Server at http:\/\/127\.0\.0\.1:1/);
    expect((await kumactl(['config', 'control-planes', 'switch', '--name', 'test'])).code).toBe(0);
  });
});
