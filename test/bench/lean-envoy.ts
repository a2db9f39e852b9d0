import * as http2 from 'node:http2';
import { decodeDeltaResponse, encodeDeltaRequest } from '../../libs/xds/ads-codec.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { edsClusters, rdsNames, type HeldResource } from '../../libs/testkit/ads-client.ts';
import { Waiters } from '../../libs/testkit/waiters.ts';

/** What the benchmark's propagation and settle measures read from a simulated proxy. */
export interface LoadClient {
  readonly responses: { typeUrl: string; changed: string[]; removed: string[]; at: number }[];
  waitFor(predicate: (c: LoadClient) => boolean, timeoutMs?: number): Promise<void>;
  names(typeUrl: string): string[];
  close(): void;
  /** One line on the proxy's state, for failure messages. */
  describe?(): string;
}

const PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';

function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/**
 * A delta-ADS proxy for load tests that costs the shared CPU as little as it can: one HTTP/2
 * connection per proxy (as with real Envoys) on node's http2 with gRPC framing by hand, no
 * grpc-js client stack. It subscribes to CDS and LDS as wildcards, EDS and RDS for what those
 * name, and ACKs everything. It holds names and versions, not resource bytes. Tests use
 * `FakeEnvoy`, which keeps and checks everything; this one is only for benchmarks.
 */
export class LeanEnvoy implements LoadClient {
  readonly responses: LoadClient['responses'] = [];
  error: Error | undefined;
  private readonly held = new Map<string, Map<string, string>>();
  private readonly subscribed = new Map<string, Set<string>>();
  private readonly waiters = new Waiters(() => this.error);
  /** Per cluster, the EDS names it needs; per listener, the route configurations it names. */
  private readonly edsOf = new Map<string, string[]>();
  private readonly rdsOf = new Map<string, string[]>();
  private readonly session: http2.ClientHttp2Session;
  private readonly stream: http2.ClientHttp2Stream;
  private pending: Buffer = Buffer.alloc(0);
  private firstSent = false;

  constructor(
    target: string,
    private readonly nodeId: string,
    /** Sent as the `authorization` metadata (a dataplane or service account token). */
    token?: string,
  ) {
    this.session = http2.connect(`http://${target}`);
    this.session.on('error', (err) => this.failed(err));
    this.stream = this.session.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers', ...(token ? { authorization: token } : {}) });
    this.stream.on('data', (chunk: Buffer) => this.onData(chunk));
    this.stream.on('error', (err) => this.failed(err));
    const ended = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined && h['grpc-status'] !== '0') this.failed(new Error(`stream ended: grpc-status ${String(h['grpc-status'])} ${decodeURIComponent(String(h['grpc-message'] ?? ''))}`));
    };
    this.stream.on('trailers', ended);
    // A refusal before any message (an authentication failure) comes as headers only.
    this.stream.on('response', ended);
    this.stream.on('close', () => {
      if (!this.closing) this.failed(new Error('stream closed'));
    });
    this.subscribe(TypeUrl.Cluster, []);
    this.subscribe(TypeUrl.Listener, []);
  }

  private failed(err: Error): void {
    this.error ??= err;
    this.notify();
  }

  private send(req: Record<string, unknown>): void {
    if (!this.firstSent) {
      this.firstSent = true;
      req = { node: { id: this.nodeId }, ...req };
    }
    this.stream.write(frame(encodeDeltaRequest(req)));
  }

  private subscribe(typeUrl: string, names: string[]): void {
    const prev = this.subscribed.get(typeUrl);
    const next = new Set(names);
    const add = names.filter((n) => !prev?.has(n));
    const remove = prev ? [...prev].filter((n) => !next.has(n)) : [];
    if (prev && add.length === 0 && remove.length === 0) return;
    this.subscribed.set(typeUrl, next);
    this.send({ type_url: typeUrl, resource_names_subscribe: add, resource_names_unsubscribe: remove });
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const len = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + len) return;
      const message = this.pending.subarray(5, 5 + len);
      this.pending = this.pending.subarray(5 + len);
      this.onResponse(message);
    }
  }

  private onResponse(buf: Buffer): void {
    const at = performance.now();
    const m = decodeDeltaResponse(buf);
    const typeUrl = String(m['type_url']);
    let held = this.held.get(typeUrl);
    if (!held) this.held.set(typeUrl, (held = new Map()));
    const resources = m['resources'] as { name: string; version: string; resource: { value: Uint8Array } }[];
    const changed: string[] = [];
    for (const r of resources) {
      held.set(r.name, r.version);
      changed.push(r.name);
    }
    const removed = m['removed_resources'] as string[];
    for (const n of removed) held.delete(n);
    this.send({ type_url: typeUrl, response_nonce: String(m['nonce']) });
    this.responses.push({ typeUrl, changed, removed, at });
    // Follow-up subscriptions come from the bodies of clusters and listeners as they arrive.
    if (typeUrl === TypeUrl.Cluster || typeUrl === TypeUrl.Listener) {
      const follow = typeUrl === TypeUrl.Cluster ? this.edsOf : this.rdsOf;
      for (const n of removed) follow.delete(n);
      for (const r of resources) {
        const one = new Map<string, HeldResource>([[r.name, { version: r.version, bytes: r.resource.value }]]);
        follow.set(r.name, typeUrl === TypeUrl.Cluster ? edsClusters(one) : rdsNames(one));
      }
      this.subscribe(typeUrl === TypeUrl.Cluster ? TypeUrl.ClusterLoadAssignment : TypeUrl.RouteConfiguration, [...new Set([...follow.values()].flat())].sort());
    }
    this.notify();
  }

  private notify(): void {
    this.waiters.notify();
  }

  waitFor(predicate: (c: LoadClient) => boolean, timeoutMs = 10_000): Promise<void> {
    return this.waiters.waitFor(() => predicate(this), timeoutMs);
  }

  names(typeUrl: string): string[] {
    return [...(this.held.get(typeUrl)?.keys() ?? [])].sort();
  }

  describe(): string {
    const last = this.responses.slice(-3).map((r) => `${r.typeUrl.split('.').pop()} +[${r.changed.slice(0, 3).join(',')}] at ${Math.round(r.at)}`);
    return `${this.nodeId}: ${this.responses.length} responses (last: ${last.join('; ')}), now ${Math.round(performance.now())}, stream ${this.stream.closed ? 'closed' : 'open'}${this.error ? `, error ${this.error.message}` : ''}`;
  }

  private closing = false;

  close(): void {
    this.closing = true;
    this.stream.close();
    this.session.close();
  }
}
