import { randomUUID } from 'node:crypto';
import pg from 'pg';
import stringify from 'safe-stable-stringify';
import type { Logger } from 'pino';
import type { NewEvent } from '../../libs/event-log/event.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import type { KumaCpConfig } from '../../libs/platform/config.ts';
import { decodeResource } from '../../libs/resources/wire.ts';
import { UnknownTypeError } from '../../libs/resources/registry.ts';
import { ValidationError } from '../../libs/resources/validation.ts';
import { EncryptingEventLog } from '../../libs/secrets/encrypting-log.ts';
import { CurrentState } from '../../libs/projection/current-state.ts';
import { resourceSubject } from '../../libs/event-log/subject.ts';
import { openEventLog } from './store.ts';
import { openStoreEncryption } from './store-encryption.ts';

/** What `kuma-cp migrate import-kuma` did. */
export interface ImportReport {
  /** Resources appended, per type. */
  readonly imported: Readonly<Record<string, number>>;
  /** Resources the log already held exactly so (an import run again with `allowNonEmpty`), per type: not appended again. */
  readonly unchanged: Readonly<Record<string, number>>;
  /** Resources changed in this control plane since they were imported (their latest write is not an import), per type: left as they are. */
  readonly kept: Readonly<Record<string, number>>;
  /** Rows left out, per type, with why (status types Kuma computes, types this control plane does not serve). */
  readonly skipped: Readonly<Record<string, { readonly count: number; readonly why: string }>>;
  /** The log's head after the import. */
  readonly head: number;
}

/** An import that cannot run: nothing was appended. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}

interface KumaRow {
  name: string;
  mesh: string;
  type: string;
  version: number;
  spec: string | null;
  creation_time: Date;
  modification_time: Date;
  labels: Record<string, string> | null;
}

/** Kuma computes these (insights, zone state): a control plane rebuilds them from its proxies. */
const COMPUTED = /Insight$|^ZoneEgress$|^ZoneIngress$|^Zone$|^ServiceInsight$|^DataplaneInsight$/;

/**
 * `kuma-cp migrate import-kuma --from <url>`: reads a Kuma 2.x universal database's `resources`
 * table and appends every resource it can serve as an event of actor source `import`, in an
 * order that keeps references valid (Meshes first, then other global types, then mesh-scoped
 * ones, each by name), in one `appendAll`: all of them or none on the embedded and postgres stores
 * (one transaction); JetStream before 2.12 writes a batch event by event, so an import cut short
 * there says which events it stored (BatchInterruptedError). Each resource passes the same
 * validation as the REST API; one that does not stops the import before anything is written.
 * Refuses a log that is not empty unless `allowNonEmpty`. Run again so, it catches up with Kuma's
 * database: a resource the log holds with the same labels and spec is left alone, and so is one
 * whose latest write here was not an import (edited in this control plane since: Kuma's copy does
 * not overwrite it); each append expects the version it compared against, so a write that slips in
 * meanwhile fails the import instead of being overwritten. Resources deleted in Kuma are not
 * deleted here. Secrets are sealed by the store encryption like any other write.
 */
export async function importKuma(config: KumaCpConfig, from: string, opts: { readonly allowNonEmpty: boolean }, logger: Logger): Promise<ImportReport> {
  const registry = fullRegistry();
  const source = new pg.Client({ connectionString: from, connectionTimeoutMillis: config.store.postgres.connectionTimeout * 1000 });
  source.on('error', () => undefined);
  let rows: KumaRow[];
  try {
    await source.connect();
    const r = await source.query<KumaRow>('SELECT name, mesh, type, version, spec, creation_time, modification_time, labels FROM resources ORDER BY type, mesh, name');
    rows = r.rows;
  } catch (err) {
    throw new ImportError(`--from: cannot read Kuma's resources table at ${redact(from)}: ${(err as Error).message}`, { cause: err });
  } finally {
    await source.end().catch(() => undefined);
  }

  const events: NewEvent[] = [];
  const skipped: Record<string, { count: number; why: string }> = {};
  const skip = (type: string, why: string) => (skipped[type] = { count: (skipped[type]?.count ?? 0) + 1, why });
  const invalid: string[] = [];
  const rank = (type: string) => (type === 'Mesh' ? 0 : registry.find(type)?.scope === 'Global' ? 1 : 2);
  rows.sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type) || a.mesh.localeCompare(b.mesh) || a.name.localeCompare(b.name));
  const now = new Date().toISOString();
  const requestId = `import-${randomUUID().slice(0, 8)}`;
  for (const row of rows) {
    if (COMPUTED.test(row.type)) {
      skip(row.type, 'computed by the control plane');
      continue;
    }
    const d = registry.find(row.type);
    if (!d) {
      skip(row.type, 'not a type this control plane serves');
      continue;
    }
    let spec: unknown;
    try {
      spec = row.spec ? JSON.parse(row.spec) : {};
    } catch (err) {
      invalid.push(`${row.type} ${row.mesh ? `${row.mesh}/` : ''}${row.name}: spec is not JSON: ${(err as Error).message}`);
      continue;
    }
    const identity = { type: row.type, ...(d.scope === 'Mesh' ? { mesh: row.mesh } : {}), name: row.name, labels: row.labels ?? {} };
    const body = d.specLayout === 'inline' ? { ...(spec as object), ...identity } : { ...identity, spec };
    try {
      const input = decodeResource(body, registry);
      events.push({
        id: randomUUID(),
        time: now,
        actor: { subject: 'kuma-cp migrate import-kuma', source: 'import', requestId },
        op: 'upsert',
        type: input.type,
        ...(input.mesh !== undefined ? { mesh: input.mesh } : {}),
        name: input.name,
        resource: { labels: input.labels, creationTime: iso(row.creation_time), modificationTime: iso(row.modification_time), spec: input.spec },
      });
    } catch (err) {
      if (err instanceof ValidationError) invalid.push(`${row.type} ${row.mesh ? `${row.mesh}/` : ''}${row.name}: ${err.violations.map((v) => `${v.field}: ${v.reason}`).join('; ')}`);
      else if (err instanceof UnknownTypeError) skip(row.type, 'not a type this control plane serves');
      else throw err;
    }
  }
  if (invalid.length > 0) throw new ImportError(`${invalid.length} resource(s) do not validate; nothing was imported:\n  ${invalid.join('\n  ')}`);

  const encryption = openStoreEncryption(config, registry, logger);
  const raw = await openEventLog(config, requestId);
  try {
    const head = await raw.head();
    if (head > 0 && !opts.allowNonEmpty) throw new ImportError(`the ${raw.kind} log already holds ${head} event(s): import into an empty store, or pass --allow-non-empty to append on top of them`);
    let undecryptable: Error | undefined;
    const log = new EncryptingEventLog(raw, encryption.sealer, (err) => (undecryptable = err));
    const unchanged: Record<string, number> = {};
    const kept: Record<string, number> = {};
    const state = new CurrentState();
    let todo = events;
    if (head > 0) {
      // What the log holds now (secrets opened), and who wrote each resource last.
      const lastSource = new Map<string, string>();
      for await (const e of log.read(1, head)) {
        state.apply(e);
        lastSource.set(resourceSubject(e), e.actor.source);
      }
      if (undecryptable) throw undecryptable;
      todo = events.filter((e) => {
        if (e.op !== 'upsert') return true;
        const r = state.get(e);
        if (r && stringify(r.spec) === stringify(e.resource.spec) && stringify(r.meta.labels) === stringify(e.resource.labels)) {
          count(unchanged, e.type);
          return false;
        }
        const source = lastSource.get(resourceSubject(e));
        if (source !== undefined && source !== 'import') {
          count(kept, e.type);
          return false;
        }
        return true;
      });
    }
    const stored = todo.length > 0 ? await log.appendAll(todo.map((event) => ({ event, expectedVersion: state.version(event) }))) : [];
    if (undecryptable) throw undecryptable;
    const imported: Record<string, number> = {};
    for (const e of todo) count(imported, e.type);
    return { imported, unchanged, kept, skipped, head: stored.at(-1)?.seq ?? head };
  } finally {
    await raw.close();
  }
}

/** One more of `type` in a per-type tally. */
const count = (into: Record<string, number>, type: string): void => void (into[type] = (into[type] ?? 0) + 1);

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    return '(the --from URL)';
  }
}
