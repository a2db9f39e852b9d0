import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ENV_VARS, ROLES } from '../../libs/platform/config.ts';
import { REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const DIR = join(REPO_ROOT, 'deploy/kubernetes');
const docs: any[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => {
      if (d.errors.length > 0) throw new Error(`${f}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJSON();
    }),
  )
  .filter((d) => d);
const of = (kind: string) => docs.filter((d) => d.kind === kind);
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const workloads = [...of('Deployment'), ...of('StatefulSet')];

describe('deploy/kubernetes', () => {
  it('runs every role as its own Deployment, with probes, requests and only known KUMA_* settings', () => {
    const env = Object.fromEntries(of('ConfigMap').filter((c) => c.metadata.name === 'kuma-cp-env').flatMap((c) => Object.entries(c.data)));
    const roles = new Set<string>();
    for (const d of of('Deployment')) {
      const c = d.spec.template.spec.containers[0];
      const role = c.args[c.args.indexOf('--roles') + 1];
      expect(ROLES).toContain(role);
      roles.add(role);
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(true);
      expect(c.readinessProbe.httpGet.path).toBe('/ready');
      expect(c.resources.requests.cpu && c.resources.requests.memory, d.metadata.name).toBeTruthy();
      for (const name of [...Object.keys(env), ...(c.env ?? []).map((e: { name: string }) => e.name)]) expect(Object.keys(ENV_VARS), `${d.metadata.name}: ${name}`).toContain(name);
    }
    expect([...roles].sort()).toEqual(['api', 'gateway', 'projector']);
    expect(env['KUMA_STORE_TYPE']).toBe('nats');
    const nats = of('StatefulSet').find((s) => s.metadata.name === 'nats');
    expect(nats.spec.replicas).toBe(3);
    expect(env['KUMA_STORE_NATS_REPLICAS']).toBe('3');
  });

  it('mounts the one store encryption key Secret into every kuma-cp role, where KUMA_STORE_ENCRYPTION_KEY_FILE points', () => {
    const env = Object.fromEntries(of('ConfigMap').filter((c) => c.metadata.name === 'kuma-cp-env').flatMap((c) => Object.entries(c.data)));
    const keyFile = env['KUMA_STORE_ENCRYPTION_KEY_FILE'] as string;
    expect(keyFile).toMatch(/^\/etc\//);
    const kumaCp = of('Deployment').filter((d) => d.spec.template.metadata.labels['app.kubernetes.io/name'] === 'kuma-cp');
    expect(kumaCp).toHaveLength(3);
    for (const d of kumaCp) {
      const pod = d.spec.template.spec;
      const volume = pod.volumes.find((v: any) => v.secret?.secretName === 'kuma-store-encryption-key');
      expect(volume, d.metadata.name).toBeDefined();
      expect(volume.secret.defaultMode & 0o007, `${d.metadata.name}: others may not read the key`).toBe(0);
      const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === volume.name);
      expect(mount.readOnly).toBe(true);
      expect(keyFile.startsWith(`${mount.mountPath}/`), d.metadata.name).toBe(true);
      expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
    }
  });

  it('gives every workload a PodDisruptionBudget, and every Service pods and a named port to reach', () => {
    for (const w of workloads) {
      expect(of('PodDisruptionBudget').some((p) => matches(p.spec.selector.matchLabels, w.spec.template.metadata.labels)), w.metadata.name).toBe(true);
    }
    for (const s of of('Service')) {
      const pods = workloads.filter((w) => matches(s.spec.selector, w.spec.template.metadata.labels));
      expect(pods.length, s.metadata.name).toBeGreaterThan(0);
      for (const p of s.spec.ports) {
        const target = p.targetPort ?? p.port;
        const names = pods.flatMap((w) => w.spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).flatMap((cp: any) => [cp.name, cp.containerPort])));
        expect(names, `${s.metadata.name}:${target}`).toContain(target);
      }
    }
  });
});
