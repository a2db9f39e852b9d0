/**
 * `npm run bench -- wire`: proto (proto/kuma_es/v1) against the JSON it replaces, for what the
 * roles exchange over NATS. Each case encodes and decodes a realistic value many times, JSON and
 * proto interleaved in the same run; the ratio is proto time / JSON time (below 1: proto faster).
 * Sizes: BENCH_WIRE_ITERATIONS (20,000 per round), 5 rounds, the median round is reported.
 */
import { randomBytes } from 'node:crypto';
import { decodeEvent, encodeEventJson, encodeEventProto } from '../../libs/event-log/event-codec.ts';
import type { NewEvent } from '../../libs/event-log/event.ts';
import type { Manifest } from '../../libs/snapshot-store/manifest.ts';
import { decodeManifestsValue, encodeManifest } from '../../libs/snapshot-store/manifest-codec.ts';
import { decodeProxyStatus, encodeProxyStatus } from '../../libs/snapshot-store/status-codec.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { round } from './stats.ts';

const ITERATIONS = Number(process.env['BENCH_WIRE_ITERATIONS'] ?? 20_000);
const ROUNDS = 5;
const OUTBOUNDS = 20;
const hash = () => randomBytes(32).toString('hex');
const services = Array.from({ length: OUTBOUNDS }, (_, i) => `backend-${i}_default_svc_80`);

/** A proxy with one inbound and 20 outbounds, as the projector writes it (EDS by shared pointer). */
export function realisticManifest(): Manifest {
  const named = (names: string[]) => Object.fromEntries(names.map((n) => [n, hash()]));
  return {
    v: 1,
    proxy: 'default.web-1',
    position: 123_456,
    generatedBy: 'projector-7f3a9c',
    changedAt: Date.now(),
    resources: {
      [TypeUrl.Cluster]: named(['localhost:8080', 'kuma:envoy:admin', ...services]),
      [TypeUrl.ClusterLoadAssignment]: Object.fromEntries(services.map((s) => [s, '@'])),
      [TypeUrl.Listener]: named(['inbound:10.0.0.1:8080', 'kuma:envoy:admin', ...services.map((s) => `outbound:${s}`)]),
      [TypeUrl.RouteConfiguration]: named(['inbound:web_default_svc_80', ...services.map((s) => `outbound:${s}`)]),
    },
    namedOnly: {},
  };
}

/** A proxy's status as a gateway publishes it: a closed stream and an open one, four types each, one NACK. */
export function realisticStatus(): Record<string, unknown> {
  const sub = (open: boolean) => ({
    id: '5d0c3c8e-8a4b-4f3e-9d2a-0b7e6c1f2a3b',
    controlPlaneInstanceId: 'gateway-1-4f9a',
    connectTime: '2026-12-01T10:00:00.000Z',
    ...(open ? {} : { disconnectTime: '2026-12-01T10:05:00.000Z' }),
    status: {
      lastUpdateTime: '2026-12-01T10:04:59.123Z',
      total: { responsesSent: 812, responsesAcknowledged: 810, responsesRejected: 1 },
      cds: { responsesSent: 200, responsesAcknowledged: 200, responsesRejected: 0, lastAckedVersion: hash().slice(0, 16) },
      eds: { responsesSent: 400, responsesAcknowledged: 399, responsesRejected: 1, lastAckedVersion: hash().slice(0, 16), lastNack: { version: hash().slice(0, 16), error: 'cluster backend-3: invalid load assignment', time: '2026-12-01T10:03:00.000Z' } },
      lds: { responsesSent: 106, responsesAcknowledged: 106, responsesRejected: 0, lastAckedVersion: hash().slice(0, 16) },
      rds: { responsesSent: 106, responsesAcknowledged: 105, responsesRejected: 0, lastAckedVersion: hash().slice(0, 16) },
    },
    version: { kumaDp: { version: '2.14.0' }, envoy: { version: '1.36.2' } },
    mode: 'delta',
  });
  return { subscriptions: [sub(false), sub(true)] };
}

/** A Dataplane upsert with 20 outbounds, as the API appends it. */
export function realisticEvent(): NewEvent {
  return {
    id: '9b2f6a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b',
    time: '2026-12-01T10:00:00.000Z',
    actor: { subject: 'anonymous', source: 'rest', requestId: 'req-1', address: '127.0.0.1' },
    op: 'upsert',
    type: 'Dataplane',
    mesh: 'default',
    name: 'web-1',
    resource: {
      labels: { 'kuma.io/origin': 'zone', team: 'payments' },
      creationTime: '2026-12-01T10:00:00.000Z',
      modificationTime: '2026-12-01T10:00:00.000Z',
      spec: {
        networking: {
          address: '10.0.0.1',
          inbound: [{ port: 8080, servicePort: 80, tags: { 'kuma.io/service': 'web', 'kuma.io/protocol': 'http', version: 'v1' } }],
          outbound: services.map((s, i) => ({ port: 10_000 + i, tags: { 'kuma.io/service': s } })),
        },
      },
    },
  };
}

const jsonBytes = (v: unknown) => Buffer.from(JSON.stringify(v));
const jsonParse = (b: Uint8Array) => JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')) as unknown;

interface Case {
  name: string;
  json: () => unknown;
  proto: () => unknown;
  jsonSize: number;
  protoSize: number;
}

function cases(): Case[] {
  const m = realisticManifest();
  const s = realisticStatus();
  const e = realisticEvent();
  return [
    { name: 'manifest (20 outbounds)', json: () => jsonParse(jsonBytes(m)), proto: () => decodeManifestsValue(encodeManifest(m)), jsonSize: jsonBytes(m).length, protoSize: encodeManifest(m).length },
    { name: 'manifest decode only', json: ((b) => () => jsonParse(b))(jsonBytes(m)), proto: ((b) => () => decodeManifestsValue(b))(encodeManifest(m)), jsonSize: jsonBytes(m).length, protoSize: encodeManifest(m).length },
    { name: 'proxy status record', json: () => jsonParse(jsonBytes(s)), proto: () => decodeProxyStatus(encodeProxyStatus(s)), jsonSize: jsonBytes(s).length, protoSize: encodeProxyStatus(s).length },
    { name: 'event envelope (Dataplane, 20 outbounds)', json: () => decodeEvent(encodeEventJson(e)), proto: () => decodeEvent(encodeEventProto(e)), jsonSize: encodeEventJson(e).length, protoSize: encodeEventProto(e).length },
  ];
}

function time(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function run(): Promise<unknown> {
  const results = [];
  for (const c of cases()) {
    time(c.json); // warm-up, both
    time(c.proto);
    const json: number[] = [];
    const proto: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      json.push(time(c.json));
      proto.push(time(c.proto));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[ROUNDS >> 1]!;
    const row = {
      case: c.name,
      jsonUsPerOp: round((median(json) * 1000) / ITERATIONS),
      protoUsPerOp: round((median(proto) * 1000) / ITERATIONS),
      ratioProtoToJson: round(median(proto) / median(json), 3),
      jsonBytes: c.jsonSize,
      protoBytes: c.protoSize,
    };
    results.push(row);
  }
  console.table(results);
  return { iterations: ITERATIONS, rounds: ROUNDS, results };
}
