import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Namespace, V1Node, V1ObjectMeta, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { defaultRegistry } from '../resources/builtin.ts';
import { decodeResource } from '../resources/wire.ts';
import { convertPod, type ConversionInput } from './pod-converter.ts';

/**
 * Golden files, written from Kuma 2.14's documented converter behaviour (KUMA-REFERENCE §7):
 * `testdata/<case>.pod.yaml` (the Pod, then any Namespace, Node and owner objects it refers to)
 * and `<case>.services.yaml` (the namespace's Services) give `<case>.dataplane.yaml`
 * (UPDATE_GOLDEN=1 rewrites it).
 */
const dir = join(import.meta.dirname, 'testdata');
const registry = defaultRegistry();

type K8sObject = { kind?: string; metadata?: V1ObjectMeta };

function docs(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(dir, file), 'utf8')).flatMap((d) => {
    const v = d.toJS() as K8sObject | K8sObject[] | null;
    return v === null ? [] : Array.isArray(v) ? v : [v];
  });
}

function inputOf(name: string): ConversionInput {
  const [pod, ...others] = docs(`${name}.pod.yaml`);
  const find = (kind: string) => others.find((o) => o.kind === kind);
  return {
    pod: pod as V1Pod,
    services: docs(`${name}.services.yaml`) as V1Service[],
    ...(find('Namespace') ? { namespace: find('Namespace') as V1Namespace } : {}),
    ...(find('Node') ? { node: find('Node') as V1Node } : {}),
    owners: (kind, namespace, n) => others.find((o) => o.kind === kind && o.metadata?.name === n && (o.metadata?.namespace ?? namespace) === namespace),
  };
}

const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.pod.yaml'))
  .map((f) => f.slice(0, -'.pod.yaml'.length))
  .sort();

describe('Pod to Dataplane (golden files)', () => {
  it.each(cases)('%s', (name) => {
    const out = convertPod(inputOf(name));
    const text = stringify(out);
    const golden = join(dir, `${name}.dataplane.yaml`);
    if (process.env['UPDATE_GOLDEN']) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    // What converts without a warning is a Dataplane the REST API accepts as it is.
    if ('dataplane' in out && out.warnings.length === 0) expect(() => decodeResource(out.dataplane, registry)).not.toThrow();
  });

  it('covers every case it claims to', () => {
    expect(cases).toEqual(['bad-input', 'no-ip', 'not-ready', 'service-ports', 'serviceless']);
  });
});

describe('Pod to Dataplane', () => {
  const base = inputOf('service-ports');

  it('gives the same Dataplane whatever order the Services are listed in', () => {
    const reversed = convertPod({ ...base, services: [...base.services].reverse() });
    const forward = convertPod(base);
    // Inbounds follow the Services' order (as Kuma lists them); the set of inbounds is the same.
    const inbounds = (c: ReturnType<typeof convertPod>) =>
      'dataplane' in c ? (c.dataplane.networking['inbound'] as { tags: Record<string, string> }[]).map((i) => i.tags['kuma.io/service']).sort() : [];
    expect(inbounds(reversed)).toEqual(inbounds(forward));
  });

  it('skips a Pod the injector did not mark, and Services of other namespaces', () => {
    const pod = base.pod;
    const unmarked = { ...pod, metadata: { ...pod.metadata, annotations: {} } };
    expect(convertPod({ ...base, pod: unmarked })).toEqual({ skipped: expect.stringMatching(/kuma\.io\/sidecar-injected/) });
    const elsewhere = base.services.map((s) => ({ ...s, metadata: { ...s.metadata, namespace: 'other' } }));
    const out = convertPod({ ...base, services: elsewhere });
    expect('dataplane' in out && (out.dataplane.networking['inbound'] as { port: number }[]).map((i) => i.port)).toEqual([49151]);
  });

  it('takes hostile label and annotation values as data: prototype keys stay plain keys', () => {
    const pod = base.pod;
    const hostile = { ...pod, metadata: { ...pod.metadata, labels: JSON.parse('{"__proto__": "x", "constructor": "y", "app": "web"}') as Record<string, string> } };
    const out = convertPod({ ...base, pod: hostile });
    expect('dataplane' in out).toBe(true);
    if (!('dataplane' in out)) return;
    expect(Object.getPrototypeOf(out.dataplane.labels)).toBe(Object.prototype);
    expect(Object.hasOwn(out.dataplane.labels, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
