import { isJsonValue, kumaEsType } from '../wire/proto-root.ts';
import type { ActorSource, NewEvent } from './event.ts';
import type { JsonObject } from '../resources/validation.ts';

/**
 * The event envelope on the wire: `kuma_es.v1.Event` (proto/kuma_es/v1/event.proto), the spec
 * inside it as JSON. Decoding accepts the JSON events written before (they start with '{').
 */
interface WireEvent {
  id: string;
  time: string;
  actor: { subject: string; source: string; requestId?: string | null; address?: string | null };
  type: string;
  mesh?: string | null;
  name: string;
  op: number;
  resource?: { labels: Record<string, string>; creationTime: string; modificationTime: string; specJson: Uint8Array } | null;
}

const OP_UPSERT = 1;
const OP_DELETE = 2;
let eventType: ReturnType<typeof kumaEsType> | undefined;
const type = () => (eventType ??= kumaEsType('Event'));
const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

export function encodeEventProto(e: NewEvent): Uint8Array {
  const a = e.actor;
  const wire: WireEvent = {
    id: e.id,
    time: e.time,
    actor: { subject: a.subject, source: a.source, ...(a.requestId !== undefined ? { requestId: a.requestId } : {}), ...(a.address !== undefined ? { address: a.address } : {}) },
    type: e.type,
    ...(e.mesh !== undefined ? { mesh: e.mesh } : {}),
    name: e.name,
    op: e.op === 'upsert' ? OP_UPSERT : OP_DELETE,
  };
  if (e.op === 'upsert') {
    const r = e.resource;
    wire.resource = { labels: r.labels as Record<string, string>, creationTime: r.creationTime, modificationTime: r.modificationTime, specJson: Buffer.from(JSON.stringify(r.spec)) };
  }
  return type().encode(wire).finish();
}

export function encodeEventJson(e: NewEvent): Uint8Array {
  return Buffer.from(JSON.stringify(e));
}

export function decodeEvent(data: Uint8Array): NewEvent {
  if (isJsonValue(data)) return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as NewEvent;
  const w = type().decode(data) as unknown as WireEvent;
  const actor = {
    subject: w.actor.subject,
    source: w.actor.source as ActorSource,
    ...(present(w.actor.requestId) ? { requestId: w.actor.requestId } : {}),
    ...(present(w.actor.address) ? { address: w.actor.address } : {}),
  };
  const base = { id: w.id, time: w.time, actor, type: w.type, ...(present(w.mesh) ? { mesh: w.mesh } : {}), name: w.name };
  if (w.op === OP_DELETE) return { ...base, op: 'delete' };
  const r = w.resource;
  if (w.op !== OP_UPSERT || !r) throw new Error(`event ${w.id}: unknown operation ${w.op}`);
  const spec = JSON.parse(Buffer.from(r.specJson.buffer, r.specJson.byteOffset, r.specJson.byteLength).toString('utf8')) as JsonObject;
  return { ...base, op: 'upsert', resource: { labels: { ...r.labels }, creationTime: r.creationTime, modificationTime: r.modificationTime, spec } };
}
