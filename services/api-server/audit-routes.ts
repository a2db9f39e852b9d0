import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, StoredEvent } from '../../libs/event-log/event.ts';
import { BatchInterruptedError, VersionConflictError } from '../../libs/event-log/errors.ts';
import type { EventFilter, EventLog } from '../../libs/event-log/port.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import type { CheckpointStore } from '../../libs/projection/checkpoint.ts';
import { resourceOf, type CurrentState } from '../../libs/projection/current-state.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import { parsePoint, PointError, type StateHistory } from '../../libs/projection/time-travel.ts';
import { verifyReplay, type VerifyDifference } from '../../libs/projection/verify.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { encodeResource } from '../../libs/resources/wire.ts';
import type { SecretRedactor } from '../../libs/secrets/redactor.ts';
import { isObject, type JsonObject } from '../../libs/resources/validation.ts';
import { parseJsonBody } from '../../libs/platform/request-body.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';
import { resourceDiff } from './history.ts';
import { planRestore, restoreEvents } from './restore.ts';

export interface AuditDeps {
  readonly registry: TypeRegistry;
  readonly projection: LiveProjection;
  readonly log: EventLog;
  readonly history: StateHistory;
  readonly checkpoints?: CheckpointStore;
  readonly actorOf: (req: FastifyRequest) => Actor;
  readonly readOnly?: boolean;
  /** Confidential specs in the feed, the export and diffs are shown through it (digests). */
  readonly redactor: SecretRedactor;
}

type Query = Record<string, string | string[] | undefined>;

export const MAX_EVENTS_PAGE = 1000;
const DEFAULT_EVENTS_PAGE = 100;
/** A page stops after scanning this many events, answering what it found and a cursor to go on. */
const SCAN_BUDGET = 50_000;
const EVENT_FILTERS = ['since', 'until', 'mesh', 'type', 'name', 'actor', 'operation', 'size', 'cursor', 'format'];

const bad = (field: string, reason: string, title = 'Bad Request') => new ApiError(400, title, reason, [{ field, reason }]);
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

function checkParams(query: Query, allowed: readonly string[]): void {
  for (const k of Object.keys(query)) {
    if (!allowed.includes(k)) throw bad(k, `unknown parameter "${k}"; supported: ${allowed.join(', ')}`);
  }
}

/** Resolves a point for a read (`at`, `from`, `to`): 400 naming the field when it cannot be answered. */
export async function resolvePoint(history: StateHistory, raw: string, field: string): Promise<number> {
  try {
    return await history.resolve(raw);
  } catch (err) {
    if (err instanceof PointError) throw bad(field, err.message);
    throw err;
  }
}

/** The state a read answers from: the live one, or the one `?at=` names (with the `x-kuma-at` header). */
export async function stateForRead(req: FastifyRequest, reply: FastifyReply, projection: LiveProjection, history: StateHistory | undefined): Promise<{ state: CurrentState; past: boolean }> {
  const at = one((req.query as Query)['at']);
  if (at === undefined) return { state: projection.state, past: false };
  if (!history) throw new ApiError(503, 'Service Unavailable', 'time travel is not available in this process');
  const seq = await resolvePoint(history, at, 'at');
  void reply.header('x-kuma-at', String(seq));
  return { state: await history.stateAt(seq), past: true };
}

/** An event as the audit feed shows it: the resource in its REST shape, confidential data as digests. */
export function feedItem(stored: StoredEvent, registry: TypeRegistry, redactor: SecretRedactor): JsonObject {
  const e = redactor.event(stored);
  const d = registry.find(e.type);
  const item: JsonObject = { seq: e.seq, id: e.id, time: e.time, operation: e.op, type: e.type };
  if (e.mesh !== undefined) item['mesh'] = e.mesh;
  item['name'] = e.name;
  item['actor'] = { ...e.actor } as JsonObject;
  if (e.op === 'upsert') item['resource'] = d ? encodeResource(resourceOf(e), d) : (e.resource as unknown as JsonObject);
  return item;
}

interface Cursor {
  readonly n: number;
  readonly u: number;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (Number.isInteger(c.n) && Number.isInteger(c.u) && c.n! >= 1 && c.u! >= 0) return { n: c.n!, u: c.u! };
  } catch {
    // fall through
  }
  throw bad('cursor', 'malformed cursor: pass the cursor from a previous page\'s "next" link unchanged');
}

const DURATION = /^(\d+(ms|s|m|h|d))+$/;

/** The time (ms) of the log's first event; undefined for an empty log. */
async function firstEventTime(log: EventLog, first: number): Promise<number | undefined> {
  for await (const e of log.read(first, first)) return Date.parse(e.time);
  return undefined;
}

/** A since/until bound: a sequence, an RFC 3339 time, or a duration back from now (`2h`). */
function parseBound(raw: string, field: string): { seq: number } | { time: number } {
  if (DURATION.test(raw)) return { time: Date.now() - parseDuration(raw) * 1000 };
  try {
    const p = parsePoint(raw);
    return 'seq' in p ? { seq: p.seq } : { time: p.time };
  } catch {
    throw bad(field, `"${raw}" is not a sequence number, an RFC 3339 time, or a duration such as 2h`);
  }
}

/** A replay-verify difference with the fingerprints of confidential resources re-keyed (subjects are `<mesh>.<type>.<name>`). */
export function redactDifference(d: VerifyDifference, redactor: SecretRedactor): VerifyDifference {
  const type = d.subject.split('.')[1] ?? ''; // type names are plain tokens: escaping leaves them as they are
  return {
    subject: d.subject,
    ...(d.live !== undefined ? { live: redactor.fingerprint(type, d.live) } : {}),
    ...(d.rebuilt !== undefined ? { rebuilt: redactor.fingerprint(type, d.rebuilt) } : {}),
  };
}

export function addAuditRoutes(app: FastifyInstance, deps: AuditDeps): void {
  const { registry, log, history, projection } = deps;

  const typeParam = (raw: string | undefined): ResourceTypeDescriptor | undefined => {
    if (raw === undefined) return undefined;
    const d = registry.find(raw) ?? registry.findByPlural(raw);
    if (!d) throw bad('type', `unknown resource type "${raw}"; known: ${registry.all().map((t) => t.name).join(', ')}`);
    return d;
  };

  /** GET /_events: the audit feed. */
  app.get('/_events', async (req, reply) => {
    const query = req.query as Query;
    checkParams(query, EVENT_FILTERS);
    const type = typeParam(one(query['type']));
    const mesh = one(query['mesh']);
    const name = one(query['name']);
    const actor = one(query['actor']);
    const operation = one(query['operation']);
    if (operation !== undefined && operation !== 'upsert' && operation !== 'delete') throw bad('operation', `must be upsert or delete, got "${operation}"`);
    const accept = req.headers.accept ?? '';
    const format = one(query['format']);
    if (format !== undefined && format !== 'json' && format !== 'jsonl') throw bad('format', `must be json or jsonl, got "${format}"`);
    const streaming = format === 'jsonl' || (format === undefined && /application\/(x-ndjson|jsonl)/.test(accept));

    const [first, head] = await Promise.all([log.first(), log.head()]);
    let from: number;
    let until: number;
    const rawCursor = one(query['cursor']);
    if (rawCursor !== undefined) {
      const c = decodeCursor(rawCursor);
      from = c.n;
      until = c.u;
    } else {
      const since = one(query['since']);
      const untilRaw = one(query['until']);
      from = first;
      until = head;
      // A bound outside the log is a 400 naming it, as the README promises, not a silently clamped range.
      const inLog = async (raw: string, field: string): Promise<{ seq: number } | { time: number }> => {
        const b = parseBound(raw, field);
        if ('seq' in b) {
          if (b.seq > head) throw bad(field, `sequence ${b.seq} is in the future: the log ends at ${head}`);
          if (b.seq < first) throw bad(field, `sequence ${b.seq} is before the start of the log (${first})`);
          return b;
        }
        // A duration back from now (`2h`) reaches before a young log naturally: it starts at the log's start.
        if (DURATION.test(raw)) return b;
        if (b.time > Date.now()) throw bad(field, `"${raw}" is in the future`);
        const start = await firstEventTime(log, first);
        if (start !== undefined && b.time < start) throw bad(field, `"${raw}" is before the start of the log (${new Date(start).toISOString()})`);
        return b;
      };
      if (since !== undefined) {
        const b = await inLog(since, 'since');
        from = 'seq' in b ? b.seq : (await history.seqAtOrBefore(b.time - 1, { first, head })) + 1;
      }
      if (untilRaw !== undefined) {
        const b = await inLog(untilRaw, 'until');
        until = 'seq' in b ? b.seq : await history.seqAtOrBefore(b.time, { first, head });
      }
    }
    let size = DEFAULT_EVENTS_PAGE;
    const rawSize = one(query['size']);
    if (rawSize !== undefined) {
      if (!/^\d+$/.test(rawSize) || Number(rawSize) < 1) throw bad('size', `must be a positive integer, got "${rawSize}"`);
      size = Number(rawSize);
      if (size > MAX_EVENTS_PAGE && !streaming) {
        throw bad(
          'size',
          `a page holds at most ${MAX_EVENTS_PAGE} events: follow the "next" cursor, or stream the whole range as JSON Lines (format=jsonl or Accept: application/x-ndjson)`,
        );
      }
    }

    const filter: EventFilter = { ...(mesh !== undefined ? { mesh } : {}), ...(type ? { type: type.name } : {}), ...(name !== undefined ? { name } : {}) };
    const matches = (e: StoredEvent) => (actor === undefined || e.actor.subject === actor) && (operation === undefined || e.op === operation);
    void reply.header('x-kuma-range', `${from}-${until}`);

    if (streaming) {
      async function* lines() {
        for await (const e of log.read(from, until, filter)) if (matches(e)) yield JSON.stringify(feedItem(e, registry, deps.redactor)) + '\n';
      }
      return reply.type('application/x-ndjson').send(Readable.from(lines()));
    }

    const items: JsonObject[] = [];
    let next = from;
    let scanned = 0;
    let exhausted = true;
    if (from <= until) {
      for await (const e of log.read(from, until, filter)) {
        next = e.seq + 1;
        scanned++;
        if (matches(e)) items.push(feedItem(e, registry, deps.redactor));
        if (items.length >= size || scanned >= SCAN_BUDGET) {
          exhausted = next > until;
          break;
        }
      }
    }
    let nextUrl: string | null = null;
    if (!exhausted) {
      const params = new URLSearchParams();
      for (const k of ['mesh', 'type', 'name', 'actor', 'operation', 'size']) {
        const v = one(query[k]);
        if (v !== undefined) params.set(k, v);
      }
      params.set('cursor', encodeCursor({ n: next, u: until }));
      nextUrl = `${req.protocol}://${req.host}/_events?${params.toString()}`;
    }
    return { items, next: nextUrl, range: { from, until } };
  });

  /** GET /_diff?from=&to=&mesh=: what changed between two points. */
  app.get('/_diff', async (req) => {
    const query = req.query as Query;
    checkParams(query, ['from', 'to', 'mesh']);
    const fromRaw = one(query['from']);
    if (fromRaw === undefined) throw bad('from', 'required: a sequence number or an RFC 3339 time');
    const from = await resolvePoint(history, fromRaw, 'from');
    const toRaw = one(query['to']);
    const to = toRaw === undefined ? await log.head() : await resolvePoint(history, toRaw, 'to');
    if (from > to) throw bad('from', `from (${from}) is after to (${to})`);
    const mesh = one(query['mesh']);
    const [a, b] = await Promise.all([history.stateAt(from), history.stateAt(to)]);
    const touched = new Map<string, { type: string; mesh?: string; name: string }>();
    const reads: EventFilter[] = mesh === undefined ? [{}] : [{ mesh }, { type: 'Mesh', name: mesh }];
    for (const f of reads) {
      for await (const e of log.read(from + 1, to, f)) {
        if (f.type === 'Mesh' && e.mesh !== undefined) continue;
        touched.set(`${e.type}\u0000${e.mesh ?? ''}\u0000${e.name}`, { type: e.type, ...(e.mesh !== undefined ? { mesh: e.mesh } : {}), name: e.name });
      }
    }
    const encode = (r: Resource | undefined) => {
      if (!r) return null;
      const d = registry.find(r.meta.type);
      return d ? encodeResource(deps.redactor.resource(r), d) : null;
    };
    const items: JsonObject[] = [];
    for (const key of [...touched.values()].sort((x, y) => (`${x.type}/${x.mesh ?? ''}/${x.name}` < `${y.type}/${y.mesh ?? ''}/${y.name}` ? -1 : 1))) {
      const before = a.get(key);
      const after = b.get(key);
      if (!before && !after) continue;
      if (before && after && before.meta.version === after.meta.version) continue;
      const diff = resourceDiff(encode(before), encode(after));
      if (before && after && diff.length === 0) continue;
      items.push({
        change: !before ? 'created' : !after ? 'deleted' : 'updated',
        type: key.type,
        ...(key.mesh !== undefined ? { mesh: key.mesh } : {}),
        name: key.name,
        fromVersion: before?.meta.version ?? null,
        toVersion: after?.meta.version ?? null,
        diff: diff as unknown as JsonObject[],
      });
    }
    return { from, to, total: items.length, items };
  });

  /** POST /_replay/verify: rebuilds from sequence 1 and compares; streams progress as JSON Lines. */
  app.post('/_replay/verify', async (_req, reply) => {
    const out = new PassThrough();
    const write = (o: unknown) => out.write(JSON.stringify(o) + '\n');
    void (async () => {
      try {
        const result = await verifyReplay(log, projection.state, deps.checkpoints, (p) => write({ progress: p }));
        write({ result: { ...result, differences: result.differences.map((d) => redactDifference(d, deps.redactor)) } });
      } catch (err) {
        write({ error: (err as Error).message });
      } finally {
        out.end();
      }
    })();
    return reply.type('application/x-ndjson').send(out);
  });

  /** POST /_restore {at, mesh?, dryRun?, basedOn?}: appends the events that bring resources back to `at`. */
  app.post('/_restore', async (req) => {
    const parsed = parseJsonBody(req.body, 'restore request');
    if (!isObject(parsed)) throw bad('body', 'must be a JSON object');
    const body: Record<string, unknown> = parsed;
    for (const k of Object.keys(body)) if (!['at', 'mesh', 'dryRun', 'basedOn'].includes(k)) throw bad(k, `unknown field "${k}"; supported: at, mesh, dryRun, basedOn`);
    if (typeof body['at'] !== 'string' && typeof body['at'] !== 'number') throw bad('at', 'required: a sequence number or an RFC 3339 time');
    if (body['mesh'] !== undefined && typeof body['mesh'] !== 'string') throw bad('mesh', 'must be a string');
    if (body['dryRun'] !== undefined && typeof body['dryRun'] !== 'boolean') throw bad('dryRun', 'must be true or false');
    if (body['basedOn'] !== undefined && !Number.isInteger(body['basedOn'])) throw bad('basedOn', 'must be the position of a previous dry run');
    const dryRun = body['dryRun'] === true;
    if (!dryRun && deps.readOnly) throw new ApiError(405, 'Method not allowed', 'the API server is in read-only mode');
    const at = await resolvePoint(history, String(body['at']), 'at');
    const mesh = body['mesh'] as string | undefined;
    const target = await history.stateAt(at);
    const current = projection.state;
    const position = current.position;
    const plan = planRestore(target, current, {
      ...(mesh !== undefined ? { mesh } : {}),
      types: registry.all(),
      skip: (k) => k.type === 'GlobalSecret' && k.name.startsWith('dataplane-token-signing-key'),
    });
    const answer = { at, position, mesh: mesh ?? null, dryRun, total: plan.length, changes: plan };
    if (dryRun || plan.length === 0) return { ...answer, applied: 0 };

    const basedOn = body['basedOn'] as number | undefined;
    if (basedOn !== undefined && basedOn < position) {
      // The client confirmed a plan made at `basedOn`: refuse if anything it covers changed since.
      const subjects = new Set(plan.map((c) => `${c.type}\u0000${c.mesh ?? ''}\u0000${c.name}`));
      for await (const e of log.read(basedOn + 1, position)) {
        if (subjects.has(`${e.type}\u0000${e.mesh ?? ''}\u0000${e.name}`)) {
          throw new ApiError(409, 'Conflict', `${e.type} "${e.name}" changed at sequence ${e.seq}, after the plan was made at ${basedOn}: nothing was restored; plan again`);
        }
      }
    }
    const actor: Actor = { ...deps.actorOf(req), source: 'restore' };
    const items = restoreEvents(plan, target, { actor, now: new Date(), newId: randomUUID });
    let stored: StoredEvent[];
    try {
      stored = await log.appendAll(items);
    } catch (err) {
      if (err instanceof BatchInterruptedError) {
        throw new ApiError(409, 'Conflict', `${err.message}: the restore is partly applied (sequences ${err.stored.map((s) => s.seq).join(', ')}); run it again to finish`);
      }
      if (err instanceof VersionConflictError) {
        throw new ApiError(409, 'Conflict', `a concurrent write changed ${err.subject} while restoring: nothing was restored; plan again`);
      }
      throw err;
    }
    await projection.waitFor(stored.at(-1)!.seq);
    return { ...answer, applied: stored.length, sequences: { from: stored[0]!.seq, to: stored.at(-1)!.seq } };
  });
}
