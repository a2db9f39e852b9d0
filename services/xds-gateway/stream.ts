import type { ServerDuplexStream } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Revocations } from '../../libs/tokens/revocations.ts';
import { TYPE_ORDER, TypeUrl } from '../../libs/xds/protos.ts';
import type { SnapshotSource } from '../../libs/xds/snapshot-cache.ts';
import { withNamedOnly, type Snapshot } from '../../libs/xds/snapshot.ts';
import { isServiceListenerName } from '../../libs/xds/generate/by-name.ts';
import type { Node } from '../../libs/xds/ads-codec.ts';
import type { XdsMetrics } from '../../libs/xds/metrics.ts';
import { InvalidNodeIdError, parseNodeId, proxyKey, type ProxyId } from './proxy-id.ts';
import type { ByNameBudget } from './by-name-budget.ts';
import { Subscription, type StreamStatusRegistry } from './status.ts';

export const KNOWN_TYPES: ReadonlySet<string> = new Set(TYPE_ORDER);
/** Types whose empty first request means "all of them" (legacy wildcard). */
export const WILDCARD_TYPES: ReadonlySet<string> = new Set([TypeUrl.Listener, TypeUrl.Cluster]);

/** A proxy failed authentication; the stream is closed with UNAUTHENTICATED. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/** A proxy's own Dataplane could not be registered (e.g. its mesh does not exist): FAILED_PRECONDITION. */
export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
}

/** A stream sent no request within the first-request timeout: DEADLINE_EXCEEDED. */
export class FirstRequestTimeoutError extends Error {
  override readonly name = 'FirstRequestTimeoutError';
}

export interface StreamDeps {
  readonly source: SnapshotSource;
  readonly status: StreamStatusRegistry;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: XdsMetrics;
  /** Throws AuthenticationError unless `token` lets this stream act as `proxy` (and the Dataplane `node` carries); resolves with the token's id when one was checked. */
  authenticate(proxy: ProxyId, token: string | undefined, node?: Node): Promise<{ readonly jti: string; readonly kid?: number } | void>;
  /** Revoked dataplane tokens: a stream whose token is revoked is closed with UNAUTHENTICATED. */
  readonly revocations?: Revocations;
  /** A proxy connected with its Dataplane in its node metadata (kuma-dp --dataplane-file). */
  onConnect?(proxy: ProxyId, node: Node): Promise<void>;
  onDisconnect?(proxy: ProxyId): void;
  /** A stream whose first request has not arrived within this is closed (0 or unset: never). */
  readonly firstRequestTimeoutMs?: number;
  /** A stream of the connection of `peer` (`address:port`) authenticated. */
  onAuthenticated?(peer: string): void;
  /** The gateway's bounds on services followed by name: one budget shared by all its streams. */
  readonly byName: ByNameBudget;
}

type Call = ServerDuplexStream<unknown, Buffer>;

/**
 * Streams with a snapshot change not yet pushed, drained after the current event-loop turn in
 * chunks: between chunks the loop turns, so the pushes made so far reach the sockets (and
 * their proxies start applying them) while the rest are encoded, instead of all leaving at
 * the end. At 10k streams the first proxies got an endpoint change only after ~200 ms.
 */
const pending = new Set<{ pushNow(): void }>();
const DRAIN_CHUNK = 256;
let drainScheduled = false;
function drainPending(): void {
  drainScheduled = false;
  let n = 0;
  for (const s of pending) {
    pending.delete(s);
    s.pushNow();
    if (++n === DRAIN_CHUNK) break;
  }
  if (pending.size > 0) scheduleDrain();
}
function scheduleDrain(): void {
  if (drainScheduled) return;
  drainScheduled = true;
  setImmediate(drainPending);
}

/** A service a proxyless client asked for by name, and what it is served (once known). */
interface ByName {
  unwatch: () => void;
  loaded: boolean;
  resources: Snapshot | undefined;
}

/** One child logger per process logger and mode, shared by every stream (not one per stream). */
const streamLoggers = new WeakMap<Logger, Record<'sotw' | 'delta', Logger>>();
function streamLogger(parent: Logger, mode: 'sotw' | 'delta'): Logger {
  let byMode = streamLoggers.get(parent);
  if (!byMode) streamLoggers.set(parent, (byMode = { sotw: parent.child({ component: 'xds-gateway', mode: 'sotw' }), delta: parent.child({ component: 'xds-gateway', mode: 'delta' }) }));
  return byMode[mode];
}

/**
 * What SotW and delta streams share: identity from the first request, authentication,
 * watching the proxy's snapshot, status, and bounded backpressure. A stream never queues
 * more than the latest state: when the transport is full, it marks itself dirty and
 * recomputes what to send once the transport drains.
 */
export abstract class AdsStream<Req extends { node?: Node; typeUrl: string }> {
  protected proxy: ProxyId | undefined;
  /** What the stream serves: the proxy's own snapshot, plus the services it asked for by name. */
  protected snapshot: Snapshot | undefined;
  /** The proxy's own snapshot, as the source gave it. */
  private own: Snapshot | undefined;
  /** Listener names asked for that may be services of the proxy's mesh (proxyless `xds:///<service>`). Absent until one is. */
  private byName: Map<string, ByName> | undefined;
  /** Services asked for by name whose resources are not known yet: responses wait for them (no empty Listener first). */
  private loadingByName = 0;
  private warnedByName = false;
  /** The snapshot every type was last evaluated against: a type whose maps are the same objects is skipped. */
  private pushed: Snapshot | undefined;
  protected sub: Subscription | undefined;
  protected readonly log: Logger;
  private unwatch: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Requests waiting in `chain` (the first one waits for authentication). */
  private queued = 0;
  private closed = false;
  private blocked = false;
  private dirty = false;
  private nonceCounter = 0;
  /** Per type with a response awaiting its ACK or NACK: the change time of its snapshot, if known. */
  private readonly unacked = new Map<string, number | undefined>();
  private firstRequestTimer: NodeJS.Timeout | undefined;
  private releaseToken: (() => void) | undefined;

  constructor(
    protected readonly call: Call,
    protected readonly deps: StreamDeps,
    readonly mode: 'sotw' | 'delta',
  ) {
    this.log = streamLogger(deps.logger, mode);
    if (deps.firstRequestTimeoutMs) {
      const ms = deps.firstRequestTimeoutMs;
      this.firstRequestTimer = setTimeout(() => this.fail(new FirstRequestTimeoutError(`no request within ${ms} ms of opening the stream`)), ms);
    }
    call.on('data', (req: Req) => {
      // Once the stream is set up and nothing is queued, a request (an ACK, mostly) is handled at
      // once: no promise per request.
      if (this.proxy && this.queued === 0) {
        try {
          this.handle(req);
        } catch (err) {
          this.fail(err);
        }
        return;
      }
      clearTimeout(this.firstRequestTimer);
      this.queued++;
      this.chain = this.chain
        .then(() => this.receive(req))
        .catch((err) => this.fail(err))
        .finally(() => this.queued--);
    });
    call.on('end', () => this.close());
    call.on('error', () => this.close());
    call.on('close', () => this.close());
    call.on('drain', () => {
      this.blocked = false;
      if (this.dirty) {
        this.dirty = false;
        this.pushNow();
      }
    });
  }

  protected nextNonce(): string {
    return String(++this.nonceCounter);
  }

  private async receive(req: Req): Promise<void> {
    if (this.closed) return;
    if (!this.proxy) await this.init(req);
    this.handle(req);
  }

  private handle(req: Req): void {
    if (this.closed) return;
    if (!KNOWN_TYPES.has(req.typeUrl)) {
      this.deps.metrics.unknownTypes.inc();
      this.log.warn({ proxy: proxyKey(this.proxy!), typeUrl: req.typeUrl }, 'request for an unknown type URL ignored');
      return;
    }
    this.onRequest(req);
  }

  private async init(req: Req): Promise<void> {
    const proxy = parseNodeId(req.node?.id);
    const token = this.call.metadata.get('authorization')[0];
    const grant = await this.deps.authenticate(proxy, typeof token === 'string' ? token.replace(/^Bearer\s+/i, '') : undefined, req.node);
    if (grant && this.deps.revocations) {
      const jti = grant.jti;
      this.releaseToken = this.deps.revocations.watch(proxy.mesh, jti, (why) => this.fail(new AuthenticationError(`dataplane token ${jti} is no longer valid: ${why}`)), grant.kid);
    }
    this.deps.onAuthenticated?.(this.call.getPeer());
    if (req.node) await this.deps.onConnect?.(proxy, req.node);
    if (this.closed) {
      // Gone while it was authenticated or registered: nothing to watch, but a registration still expires.
      if (req.node) this.deps.onDisconnect?.(proxy);
      return;
    }
    this.proxy = proxy;
    const meta = req.node?.metadata ?? {};
    const version = (meta['version'] ?? {}) as { kumaDp?: { version?: string }; envoy?: { version?: string } };
    this.sub = new Subscription(this.deps.instanceId, this.mode, {
      ...(version.kumaDp?.version ? { kumaDp: version.kumaDp.version } : {}),
      ...(version.envoy?.version ? { envoy: version.envoy.version } : req.node?.userAgentVersion ? { envoy: `${req.node.userAgentName ?? ''} ${req.node.userAgentVersion}`.trim() } : {}),
    });
    this.deps.status.open(proxyKey(proxy), this.sub);
    this.deps.metrics.streams.inc({ mode: this.mode });
    this.log.info({ proxy: proxyKey(proxy), streamId: this.sub.id }, 'proxy connected');
    this.unwatch = this.deps.source.watch(proxyKey(proxy), (s) => {
      this.own = s;
      this.compose();
    });
  }

  /**
   * The Listener names the proxy now asks for (SotW: its request; delta: its subscriptions). A
   * name that may be a service (not one of a proxy's own listener names) is followed as a service
   * of the proxy's own mesh, so a proxyless client that dials `xds:///<service>` is served that
   * service whatever its Dataplane declares; a service of another mesh is never looked up.
   */
  protected listenersRequested(names: ReadonlySet<string> | 'wildcard'): void {
    const source = this.deps.source;
    if (!source.watchService || !this.proxy || this.closed) return;
    const budget = this.deps.byName;
    const { perStream } = budget.limits;
    const wanted: string[] = [];
    let overStream = 0;
    if (names !== 'wildcard') {
      for (const n of names) {
        if (!isServiceListenerName(n)) continue;
        if (wanted.length === perStream) overStream++;
        else wanted.push(n);
      }
    }
    if (wanted.length === 0 && !this.byName) return this.refusedByName(overStream, 0);
    const keep = new Set(wanted);
    let changed = false;
    const mesh = this.proxy.mesh;
    for (const [n, e] of this.byName ?? []) {
      if (keep.has(n)) continue;
      this.unwatchByName(mesh, n, e);
      this.byName!.delete(n);
      changed = true;
    }
    let overGateway = 0;
    for (const n of wanted) {
      if (this.byName?.has(n)) continue;
      // The gateway follows as many services as it may: this one is not served (asked again, it may be later).
      if (!budget.acquire(mesh, n)) {
        overGateway++;
        continue;
      }
      const e: ByName = { unwatch: () => undefined, loaded: false, resources: undefined };
      (this.byName ??= new Map()).set(n, e);
      this.loadingByName++;
      changed = true;
      e.unwatch = source.watchService(mesh, n, (s) => {
        if (this.byName?.get(n) !== e) return;
        const first = !e.loaded;
        if (first) this.loadingByName--;
        e.loaded = true;
        e.resources = s;
        this.compose(first);
      });
    }
    if (this.byName?.size === 0) this.byName = undefined;
    this.refusedByName(overStream, overGateway);
    if (changed) this.compose(true);
  }

  private unwatchByName(mesh: string, n: string, e: ByName): void {
    e.unwatch();
    if (!e.loaded) this.loadingByName--;
    this.deps.byName.release(mesh, n);
  }

  /** Names a request asked for that are not served (a bound was reached): counted, and a warning once per stream. */
  private refusedByName(overStream: number, overGateway: number): void {
    if (overStream === 0 && overGateway === 0) return;
    if (overStream > 0) this.deps.metrics.byNameRefused.inc({ limit: 'stream' }, overStream);
    if (overGateway > 0) this.deps.metrics.byNameRefused.inc({ limit: 'gateway' }, overGateway);
    if (this.warnedByName) return;
    this.warnedByName = true;
    const { limits, size } = this.deps.byName;
    this.log.warn(
      { proxy: this.proxy && proxyKey(this.proxy), refused: overStream + overGateway, perStream: limits.perStream, perGateway: limits.perGateway, followedByGateway: size, limit: overStream > 0 ? 'stream' : 'gateway' },
      'too many services asked for by name: the rest are not served (this stream is warned about once)',
    );
  }

  /** Whether responses wait for services asked for by name whose resources are not known yet. */
  protected get holding(): boolean {
    return this.loadingByName > 0;
  }

  /** What is served: the own snapshot with the services asked for by name; pushes if it changed. */
  private compose(reevaluate = false): void {
    if (this.closed || this.holding) return;
    let s = this.own;
    if (s && this.byName) {
      const extras = [];
      let changedAt = s.changedAt;
      for (const e of this.byName.values()) {
        for (const byName of e.resources?.namedOnly.values() ?? []) extras.push(...byName.values());
        const t = e.resources?.changedAt;
        if (t !== undefined && (changedAt === undefined || t > changedAt)) changedAt = t;
      }
      s = withNamedOnly(s, extras);
      // The event-to-ACK metric measures from the latest change this serves (an endpoint change of a service asked for by name).
      if (changedAt !== s.changedAt && changedAt !== undefined) s = { ...s, changedAt };
    }
    // After the by-name set changed, every type is looked at again (a type held back while a
    // service loaded gets its answer, even an empty one); unchanged ones send nothing.
    if (reevaluate) this.pushed = undefined;
    if (s === this.snapshot && !reevaluate) return;
    this.snapshot = s;
    this.push();
  }

  /**
   * Sends what changed for every type the proxy asked for, at the end of this event-loop turn:
   * snapshot changes that arrive together (a burst of endpoint updates) go out as one response
   * per type instead of one each.
   */
  protected push(): void {
    if (this.closed || !this.snapshot) return;
    pending.add(this);
    scheduleDrain();
  }

  /** Recomputes and sends now (the pending-push drain calls this). */
  pushNow(): void {
    if (this.closed || !this.snapshot) return;
    if (this.blocked) {
      if (!this.dirty) this.deps.metrics.delayedPushes.inc();
      this.dirty = true;
      return;
    }
    const s = this.snapshot;
    const was = this.pushed;
    this.pushed = s;
    for (const typeUrl of TYPE_ORDER) {
      // Snapshots share the maps of types a change did not touch (an endpoint change replaces one).
      if (was && was.resources.get(typeUrl) === s.resources.get(typeUrl) && was.namedOnly.get(typeUrl) === s.namedOnly.get(typeUrl)) continue;
      this.pushType(typeUrl);
    }
  }

  protected abstract onRequest(req: Req): void;
  protected abstract pushType(typeUrl: string): void;

  protected send(typeUrl: string, buf: Buffer): void {
    this.deps.metrics.forType(typeUrl).pushes.inc();
    this.deps.metrics.pushBytes.inc(buf.length);
    this.sub?.sent(typeUrl);
    if (!this.unacked.has(typeUrl)) this.deps.metrics.awaitingAck++;
    this.unacked.set(typeUrl, this.snapshot?.changedAt);
    if (!this.call.write(buf)) this.blocked = true;
  }

  protected nack(typeUrl: string, version: string, message: string): void {
    this.deps.metrics.forType(typeUrl).nacks.inc();
    this.sub?.nacked(typeUrl, version, message);
    if (this.unacked.delete(typeUrl)) this.deps.metrics.awaitingAck--;
    this.log.warn({ proxy: this.proxy && proxyKey(this.proxy), typeUrl, version, error: message }, 'proxy rejected configuration (NACK); keeping it on its last accepted version');
  }

  protected ack(typeUrl: string, version: string): void {
    this.deps.metrics.forType(typeUrl).acks.inc();
    this.sub?.acked(typeUrl, version);
    if (!this.unacked.has(typeUrl)) return;
    const changedAt = this.unacked.get(typeUrl);
    this.unacked.delete(typeUrl);
    this.deps.metrics.awaitingAck--;
    if (changedAt !== undefined) this.deps.metrics.eventToAckSeconds.observe(Math.max(0, Date.now() - changedAt) / 1000);
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    const e = err as Error;
    const code =
      err instanceof InvalidNodeIdError
        ? GrpcStatus.INVALID_ARGUMENT
        : err instanceof AuthenticationError
          ? GrpcStatus.UNAUTHENTICATED
          : err instanceof RegistrationError
            ? GrpcStatus.FAILED_PRECONDITION
            : err instanceof FirstRequestTimeoutError
              ? GrpcStatus.DEADLINE_EXCEEDED
              : GrpcStatus.INTERNAL;
    this.log.warn({ proxy: this.proxy && proxyKey(this.proxy), err: e.message, code }, 'closing xDS stream');
    this.deps.metrics.rejectedStreams.inc({ reason: e.name });
    this.call.emit('error', { code, details: e.message });
    this.call.destroy();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.firstRequestTimer);
    this.releaseToken?.();
    this.deps.metrics.awaitingAck -= this.unacked.size;
    this.unacked.clear();
    this.unwatch?.();
    for (const [n, e] of this.byName ?? []) this.unwatchByName(this.proxy!.mesh, n, e);
    this.byName = undefined;
    if (this.sub && this.proxy) {
      this.deps.status.close(this.sub);
      this.deps.metrics.streams.dec({ mode: this.mode });
      this.log.info({ proxy: proxyKey(this.proxy), streamId: this.sub.id }, 'proxy disconnected');
      this.deps.onDisconnect?.(this.proxy);
    }
    try {
      this.call.end();
    } catch {
      // already gone
    }
  }
}
