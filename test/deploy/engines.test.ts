import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';

/**
 * The declared Node.js engine, the installed dependency tree and the README agree: `npm ci` on the
 * oldest declared version installs nothing that declares it needs a newer Node (EBADENGINE), and the
 * packages pinned down for that (package.json `overrides`) still do their job.
 */
const require = createRequire(import.meta.url);
const semver = require('semver') as { satisfies(version: string, range: string): boolean; minVersion(range: string): { version: string } | null };
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
};
const declared = pkg.engines.node;
const oldest = semver.minVersion(declared)?.version ?? '';

describe('Node.js engine', () => {
  it('runs the tests on a declared version', () => {
    expect(oldest).toMatch(/^\d+\.\d+\.\d+$/);
    expect(semver.satisfies(process.version, declared)).toBe(true);
  });

  it('installs no package that requires a Node.js newer than the oldest declared one', () => {
    const unsupported = Object.entries(lock.packages)
      .map(([path, meta]) => ({ path, range: Array.isArray(meta.engines) ? undefined : meta.engines?.node }))
      .filter((p): p is { path: string; range: string } => p.range !== undefined)
      .filter((p) => !semver.satisfies(oldest, p.range) || !semver.satisfies(process.version, p.range))
      .map((p) => `${p.path} needs node ${p.range}`);
    expect(unsupported).toEqual([]);
  });

  it('is the version the README tells users to install', () => {
    const [major, minor] = oldest.split('.');
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(`Node.js ${major}.${minor}+`);
  });

  it('NATS ids still come from the pinned @nats-io/nuid', async () => {
    const { nuid } = await import('@nats-io/nats-core');
    const ids = new Set(Array.from({ length: 1000 }, () => nuid.next()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
  });

  it("fastify's inject still encodes cookies with the pinned cookie", async () => {
    const { default: fastify } = await import('fastify');
    const app = fastify();
    app.get('/', async (req) => ({ cookie: req.headers.cookie }));
    try {
      const res = await app.inject({ method: 'GET', url: '/', cookies: { a: 'b c', d: 'e' } });
      expect(res.json()).toEqual({ cookie: 'a=b%20c; d=e' });
    } finally {
      await app.close();
    }
  });
});
