import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { defaultInjectorConfig, injectPod, type InjectorConfig } from './injector.ts';

/**
 * Golden files, written from Kuma 2.14's injector (KUMA-REFERENCE §7 and its source):
 * `testdata/injector/<case>.input.yaml` (the Pod, then its Namespace), optionally
 * `<case>.config.yaml` (injector settings over the defaults), give `<case>.golden.yaml`: the Pod
 * as admitted, or why it is left alone or refused (UPDATE_GOLDEN=1 rewrites it). The meshes
 * `default` and `payments` exist.
 */
const dir = join(import.meta.dirname, 'testdata', 'injector');
const meshes = new Set(['default', 'payments']);

const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.input.yaml'))
  .map((f) => f.slice(0, -'.input.yaml'.length))
  .sort();

function run(name: string) {
  // JSON, as the API server sends it: prototype keys arrive as own properties.
  const [pod, namespace] = parseAllDocuments(readFileSync(join(dir, `${name}.input.yaml`), 'utf8')).map((d) => JSON.parse(JSON.stringify(d.toJSON())) as unknown);
  const configFile = join(dir, `${name}.config.yaml`);
  const config: InjectorConfig = defaultInjectorConfig(existsSync(configFile) ? (parse(readFileSync(configFile, 'utf8')) as Partial<InjectorConfig>) : {});
  const input = { pod: pod as V1Pod, namespace: namespace as V1Namespace, meshExists: (m: string) => meshes.has(m) };
  const before = JSON.stringify(pod);
  const out = injectPod(input, config);
  expect(JSON.stringify(pod), 'the input Pod is not changed').toBe(before);
  return out;
}

describe('sidecar injector (golden files)', () => {
  it.each(cases)('%s', (name) => {
    const text = stringify(run(name));
    const golden = join(dir, `${name}.golden.yaml`);
    if (process.env['UPDATE_GOLDEN']) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('covers every case it claims to', () => {
    expect(cases).toEqual(['already-injected', 'bad-drain-time', 'bad-label', 'cni', 'exception', 'hostile', 'missing-mesh', 'namespace-enabled', 'not-labelled', 'pod-opts-in', 'pod-opts-out', 'proxyless', 'same-uid']);
  });

  it('keeps prototype keys as data and pollutes nothing', () => {
    const out = run('hostile');
    expect(out).toEqual({ refused: 'annotation traffic.kuma.io/exclude-inbound-ports: "http" is not a port or port range' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('injects the same Pod the same way twice, and an injected Pod not again', () => {
    const first = run('namespace-enabled');
    if (!('pod' in first)) throw new Error('expected an injected Pod');
    const ns = parseAllDocuments(readFileSync(join(dir, 'namespace-enabled.input.yaml'), 'utf8'))[1]!.toJSON() as V1Namespace;
    expect(injectPod({ pod: first.pod, namespace: ns, meshExists: () => true }, defaultInjectorConfig())).toEqual({ skipped: 'Pod shop/web-7d9f8- already has a kuma-sidecar container' });
  });
});
