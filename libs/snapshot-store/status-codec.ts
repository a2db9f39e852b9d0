import { isJsonValue, kumaEsType } from '../wire/proto-root.ts';

/**
 * The proxy status record on the wire: `kuma_es.v1.ProxyStatus` (proto/kuma_es/v1/status.proto)
 * for the insight JSON that services/xds-gateway/status.ts builds (Kuma's DataplaneInsight
 * subscriptions). Reading still accepts JSON records written before (they start with '{').
 * A record whose shape the proto does not describe is written as JSON, so nothing is ever lost.
 */
type Json = Record<string, unknown>;
interface WireCounters {
  responsesSent: number;
  responsesAcknowledged: number;
  responsesRejected: number;
}
interface WireTypeStatus {
  counters: WireCounters;
  lastAckedVersion?: string | null;
  lastNack?: { version: string; error: string; time: string } | null;
}
interface WireSubscription {
  id: string;
  controlPlaneInstanceId: string;
  connectTime: string;
  disconnectTime?: string | null;
  lastUpdateTime?: string | null;
  total: WireCounters;
  byType: Record<string, WireTypeStatus>;
  kumaDpVersion: string;
  envoyVersion: string;
  mode: string;
}

let statusType: ReturnType<typeof kumaEsType> | undefined;
const status = () => (statusType ??= kumaEsType('ProxyStatus'));

const SUBSCRIPTION_KEYS = new Set(['id', 'controlPlaneInstanceId', 'connectTime', 'disconnectTime', 'status', 'version', 'mode']);
const COUNTER_KEYS = ['responsesSent', 'responsesAcknowledged', 'responsesRejected'] as const;
const TYPE_KEYS = new Set<string>([...COUNTER_KEYS, 'lastAckedVersion', 'lastNack']);

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function counters(v: unknown): WireCounters | undefined {
  if (!isObj(v) || !COUNTER_KEYS.every((k) => isCount(v[k]))) return undefined;
  return { responsesSent: v['responsesSent'] as number, responsesAcknowledged: v['responsesAcknowledged'] as number, responsesRejected: v['responsesRejected'] as number };
}

function typeStatus(v: unknown): WireTypeStatus | undefined {
  const c = counters(v);
  if (!c || !isObj(v) || Object.keys(v).some((k) => !TYPE_KEYS.has(k))) return undefined;
  const out: WireTypeStatus = { counters: c };
  if (v['lastAckedVersion'] !== undefined) {
    if (!isStr(v['lastAckedVersion'])) return undefined;
    out.lastAckedVersion = v['lastAckedVersion'];
  }
  if (v['lastNack'] !== undefined) {
    const n = v['lastNack'];
    if (!isObj(n) || Object.keys(n).length !== 3 || !isStr(n['version']) || !isStr(n['error']) || !isStr(n['time'])) return undefined;
    out.lastNack = { version: n['version'], error: n['error'], time: n['time'] };
  }
  return out;
}

/** The wire form of one subscription, or undefined when it has anything the proto does not carry. */
function subscription(s: unknown): WireSubscription | undefined {
  if (!isObj(s) || Object.keys(s).some((k) => !SUBSCRIPTION_KEYS.has(k))) return undefined;
  const { id, controlPlaneInstanceId, connectTime, disconnectTime, status: st, version, mode } = s;
  if (!isStr(id) || !isStr(controlPlaneInstanceId) || !isStr(connectTime) || !isStr(mode) || (disconnectTime !== undefined && !isStr(disconnectTime))) return undefined;
  if (!isObj(st) || !isObj(version) || Object.keys(version).length !== 2) return undefined;
  const kumaDp = version['kumaDp'];
  const envoy = version['envoy'];
  if (!isObj(kumaDp) || !isObj(envoy) || Object.keys(kumaDp).length !== 1 || Object.keys(envoy).length !== 1 || !isStr(kumaDp['version']) || !isStr(envoy['version'])) return undefined;
  const total = counters(st['total']);
  if (!total || Object.keys(st['total'] as Json).length !== 3) return undefined;
  const byType: Record<string, WireTypeStatus> = {};
  for (const [k, v] of Object.entries(st)) {
    if (k === 'total' || k === 'lastUpdateTime') continue;
    const t = typeStatus(v);
    if (!t) return undefined;
    byType[k] = t;
  }
  if (st['lastUpdateTime'] !== undefined && !isStr(st['lastUpdateTime'])) return undefined;
  return {
    id,
    controlPlaneInstanceId,
    connectTime,
    ...(disconnectTime !== undefined ? { disconnectTime } : {}),
    ...(st['lastUpdateTime'] !== undefined ? { lastUpdateTime: st['lastUpdateTime'] } : {}),
    total,
    byType,
    kumaDpVersion: kumaDp['version'],
    envoyVersion: envoy['version'],
    mode,
  };
}

export function encodeProxyStatus(insight: Json): Uint8Array {
  const subs = insight['subscriptions'];
  const wire = Object.keys(insight).length === 1 && Array.isArray(subs) ? subs.map(subscription) : undefined;
  if (!wire || wire.some((s) => s === undefined)) return Buffer.from(JSON.stringify(insight));
  return status().encode({ subscriptions: wire }).finish();
}

const countersJson = (c: WireCounters | undefined): Json => ({ responsesSent: c?.responsesSent ?? 0, responsesAcknowledged: c?.responsesAcknowledged ?? 0, responsesRejected: c?.responsesRejected ?? 0 });
const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

export function decodeProxyStatus(data: Uint8Array): Json {
  if (isJsonValue(data)) return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Json;
  const decoded = status().decode(data) as unknown as { subscriptions: WireSubscription[] };
  return {
    subscriptions: decoded.subscriptions.map((s) => {
      const st: Json = { ...(present(s.lastUpdateTime) ? { lastUpdateTime: s.lastUpdateTime } : {}), total: countersJson(s.total) };
      for (const [k, t] of Object.entries(s.byType)) {
        st[k] = { ...countersJson(t.counters), ...(present(t.lastAckedVersion) ? { lastAckedVersion: t.lastAckedVersion } : {}), ...(present(t.lastNack) ? { lastNack: { version: t.lastNack.version, error: t.lastNack.error, time: t.lastNack.time } } : {}) };
      }
      return {
        id: s.id,
        controlPlaneInstanceId: s.controlPlaneInstanceId,
        connectTime: s.connectTime,
        ...(present(s.disconnectTime) ? { disconnectTime: s.disconnectTime } : {}),
        status: st,
        version: { kumaDp: { version: s.kumaDpVersion }, envoy: { version: s.envoyVersion } },
        mode: s.mode,
      };
    }),
  };
}
