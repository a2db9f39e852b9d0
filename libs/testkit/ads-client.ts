import * as grpc from '@grpc/grpc-js';
import { adsServiceDefinition } from '../xds/ads-service.ts';
import { decodeDeltaResponse, decodeResponse, encodeDeltaRequest, encodeRequest, jsonToStruct } from '../xds/ads-codec.ts';
import { messageType, TypeUrl } from '../xds/protos.ts';
import { Waiters } from './waiters.ts';

/** A resource as the client holds it: its version (delta) or the response version (SotW), and bytes. */
export interface HeldResource {
  readonly version: string;
  readonly bytes: Uint8Array;
}

export interface AdsClientOptions {
  readonly target: string;
  readonly nodeId: string;
  readonly mode: 'sotw' | 'delta';
  readonly token?: string;
  /** PEM of the CA to trust; plaintext when absent. */
  readonly ca?: string;
  readonly nodeMetadata?: Record<string, unknown>;
  /** Reject (NACK) a response when this returns an error message. */
  readonly reject?: (typeUrl: string, resources: Map<string, HeldResource>) => string | undefined;
  /** Reuse one channel for many clients (benchmarks). */
  readonly channel?: grpc.Client;
}

/** Types whose state-of-the-world responses need not repeat unchanged resources. */
const SOTW_INCREMENTAL: ReadonlySet<string> = new Set([TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration]);
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const AdsClientCtor = grpc.makeGenericClientConstructor(adsServiceDefinition, 'ADS');

export function adsChannel(target: string, ca?: string): grpc.Client {
  const creds = ca ? grpc.credentials.createSsl(Buffer.from(ca)) : grpc.credentials.createInsecure();
  return new AdsClientCtor(target, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.use_local_subchannel_pool': 1 });
}

/**
 * A minimal Envoy-like ADS client for tests and benchmarks (a fake of Envoy, named as such).
 * It subscribes to CDS and LDS as wildcards, asks EDS for the EDS clusters and RDS for the
 * routes it receives, and ACKs (or, with `reject`, NACKs) every response.
 */
export class FakeEnvoy {
  readonly resources = new Map<string, Map<string, HeldResource>>();
  readonly versions = new Map<string, string>();
  /** Every response applied: what changed, what was removed, how many resources it carried and their names (changed or not). */
  readonly responses: { typeUrl: string; changed: string[]; removed: string[]; at: number; carried: number; names: string[] }[] = [];
  nacks = 0;
  error: grpc.ServiceError | undefined;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly waiters = new Waiters(() => this.error);
  private readonly subscribed = new Map<string, Set<string>>();
  private firstSent = false;
  private readonly channel: grpc.Client;

  constructor(private readonly opts: AdsClientOptions) {
    this.channel = opts.channel ?? adsChannel(opts.target, opts.ca);
    const md = new grpc.Metadata();
    if (opts.token) md.set('authorization', opts.token);
    const method = opts.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    this.call = (this.channel as unknown as Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<Buffer, Buffer>>)[method]!.call(this.channel, md);
    this.call.on('data', (buf: Buffer) => this.onResponse(buf));
    this.call.on('error', (err: grpc.ServiceError) => {
      this.error = err;
      this.notify();
    });
    this.subscribe(TypeUrl.Cluster, []);
    this.subscribe(TypeUrl.Listener, []);
  }

  private node() {
    if (this.firstSent) return undefined;
    this.firstSent = true;
    const metadata = this.opts.nodeMetadata ? jsonToStruct(this.opts.nodeMetadata) : undefined;
    return { id: this.opts.nodeId, ...(metadata ? { metadata } : {}) };
  }

  /** Sends a raw request object (for bad-input tests). */
  sendRaw(req: Record<string, unknown>): void {
    this.call.write(this.opts.mode === 'sotw' ? encodeRequest(req) : encodeDeltaRequest(req));
  }

  writeBytes(buf: Buffer): void {
    this.call.write(buf);
  }

  subscribe(typeUrl: string, names: string[]): void {
    const prev = this.subscribed.get(typeUrl);
    const next = new Set(names);
    this.subscribed.set(typeUrl, next);
    const node = this.node();
    if (this.opts.mode === 'sotw') {
      // An EDS or RDS resource no longer subscribed is dropped (its cluster or listener is gone).
      if (SOTW_INCREMENTAL.has(typeUrl)) for (const n of [...(this.resources.get(typeUrl)?.keys() ?? [])]) if (!next.has(n)) this.resources.get(typeUrl)!.delete(n);
      this.call.write(
        encodeRequest({
          ...(node ? { node } : {}),
          type_url: typeUrl,
          resource_names: names,
          version_info: this.versions.get(typeUrl) ?? '',
          response_nonce: this.lastNonce.get(typeUrl) ?? '',
        }),
      );
    } else {
      const add = names.filter((n) => !prev?.has(n));
      const remove = prev ? [...prev].filter((n) => !next.has(n)) : [];
      if (prev && add.length === 0 && remove.length === 0) return;
      this.call.write(encodeDeltaRequest({ ...(node ? { node } : {}), type_url: typeUrl, resource_names_subscribe: add, resource_names_unsubscribe: remove }));
    }
  }

  private readonly lastNonce = new Map<string, string>();

  private onResponse(buf: Buffer): void {
    const at = performance.now();
    const m = this.opts.mode === 'sotw' ? decodeResponse(buf) : decodeDeltaResponse(buf);
    const typeUrl = String(m['type_url']);
    const nonce = String(m['nonce']);
    const before = this.resources.get(typeUrl) ?? new Map<string, HeldResource>();
    const after = new Map(before);
    const changed: string[] = [];
    const carried: string[] = [];
    let removed: string[] = [];
    if (this.opts.mode === 'sotw') {
      const version = String(m['version_info']);
      // LDS and CDS responses carry the whole set; EDS and RDS ones may carry only what changed
      // (as Envoy and gRPC read them): the others are kept while they are subscribed.
      if (!SOTW_INCREMENTAL.has(typeUrl)) after.clear();
      else for (const n of [...after.keys()]) if (!this.subscribed.get(typeUrl)?.has(n)) after.delete(n);
      for (const any of m['resources'] as { type_url: string; value: Uint8Array }[]) {
        const name = resourceName(typeUrl, any.value);
        carried.push(name);
        after.set(name, { version, bytes: any.value });
        if (!before.has(name) || !Buffer.from(before.get(name)!.bytes).equals(Buffer.from(any.value))) changed.push(name);
      }
      removed = [...before.keys()].filter((n) => !after.has(n));
      const err = this.opts.reject?.(typeUrl, after);
      if (err) {
        this.nacks++;
        this.call.write(encodeRequest({ type_url: typeUrl, resource_names: [...(this.subscribed.get(typeUrl) ?? [])], version_info: this.versions.get(typeUrl) ?? '', response_nonce: nonce, error_detail: { code: 3, message: err } }));
        this.lastNonce.set(typeUrl, nonce);
        this.notify();
        return;
      }
      this.resources.set(typeUrl, after);
      this.versions.set(typeUrl, version);
      this.lastNonce.set(typeUrl, nonce);
      this.call.write(encodeRequest({ type_url: typeUrl, resource_names: [...(this.subscribed.get(typeUrl) ?? [])], version_info: version, response_nonce: nonce }));
    } else {
      for (const r of m['resources'] as { name: string; version: string; resource: { value: Uint8Array } }[]) {
        after.set(r.name, { version: r.version, bytes: r.resource.value });
        carried.push(r.name);
        changed.push(r.name);
      }
      removed = (m['removed_resources'] as string[]).filter((n) => after.delete(n) || true);
      const err = this.opts.reject?.(typeUrl, after);
      if (err) {
        this.nacks++;
        this.call.write(encodeDeltaRequest({ type_url: typeUrl, response_nonce: nonce, error_detail: { code: 3, message: err } }));
        this.notify();
        return;
      }
      this.resources.set(typeUrl, after);
      this.call.write(encodeDeltaRequest({ type_url: typeUrl, response_nonce: nonce }));
    }
    this.responses.push({ typeUrl, changed, removed, at, carried: carried.length, names: carried });
    if (typeUrl === TypeUrl.Cluster) this.subscribe(TypeUrl.ClusterLoadAssignment, edsClusters(after));
    if (typeUrl === TypeUrl.Listener) this.subscribe(TypeUrl.RouteConfiguration, rdsNames(after));
    this.notify();
  }

  private notify(): void {
    this.waiters.notify();
  }

  /** Resolves once `predicate` holds (checked after every response), or rejects after `timeoutMs`. */
  waitFor(predicate: (c: FakeEnvoy) => boolean, timeoutMs = 10_000): Promise<void> {
    return this.waiters.waitFor(() => predicate(this), timeoutMs);
  }

  names(typeUrl: string): string[] {
    return [...(this.resources.get(typeUrl)?.keys() ?? [])].sort();
  }

  close(): void {
    this.call.cancel();
    if (!this.opts.channel) this.channel.close();
  }
}

const typeCache = new Map<string, ReturnType<typeof messageType>>();
function decode(typeUrl: string, bytes: Uint8Array): Record<string, unknown> {
  let t = typeCache.get(typeUrl);
  if (!t) typeCache.set(typeUrl, (t = messageType(typeUrl.split('/')[1]!)));
  return t.decode(bytes) as unknown as Record<string, unknown>;
}

function resourceName(typeUrl: string, bytes: Uint8Array): string {
  const m = decode(typeUrl, bytes);
  return String(typeUrl === TypeUrl.ClusterLoadAssignment ? m['cluster_name'] : m['name']);
}

export function edsClusters(clusters: Map<string, HeldResource>): string[] {
  const out: string[] = [];
  for (const [name, r] of clusters) {
    const c = decode(TypeUrl.Cluster, r.bytes);
    if (c['type'] === 3 /* EDS */) out.push(name);
  }
  return out.sort();
}

export function rdsNames(listeners: Map<string, HeldResource>): string[] {
  const out = new Set<string>();
  for (const r of listeners.values()) {
    const l = decode(TypeUrl.Listener, r.bytes) as { filter_chains?: { filters?: { typed_config?: { type_url: string; value: Uint8Array } }[] }[] };
    for (const fc of l.filter_chains ?? []) {
      for (const f of fc.filters ?? []) {
        if (f.typed_config?.type_url !== HCM) continue;
        const hcm = decode(HCM, f.typed_config.value) as { rds?: { route_config_name?: string } };
        if (hcm.rds?.route_config_name) out.add(hcm.rds.route_config_name);
      }
    }
  }
  return [...out].sort();
}
