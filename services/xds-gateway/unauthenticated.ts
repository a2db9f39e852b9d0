import type { Socket } from 'node:net';

/** Why the data plane server closed a connection before it authenticated. */
export type ConnectionRejection = 'too_many_unauthenticated' | 'authentication_timeout' | 'handshake_timeout';

export interface UnauthenticatedLimits {
  /** Connections from one address that may be unauthenticated at once; more are refused. */
  readonly perSource: number;
  /** A connection that has not authenticated within this is closed. */
  readonly timeoutMs: number;
}

interface Pending {
  /** What a timeout destroys: the raw socket, then the TLS socket that took it over. */
  socket: Socket;
  readonly source: string;
  readonly timer: NodeJS.Timeout;
}

/** `address:port` of a socket's remote end, as grpc-js's `call.getPeer()` writes it. */
export function peerOf(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
}

/**
 * Connections that have not yet authenticated, per source address. Each is admitted only while
 * its source holds fewer than `perSource`, and is closed unless `authenticated(peer)` is called
 * within `timeoutMs` (a stream presented a valid token, or a bootstrap request did). A closed
 * connection frees its place. Nothing here reads from the socket.
 */
export class UnauthenticatedConnections {
  private readonly byPeer = new Map<string, Pending>();
  private readonly perSource = new Map<string, number>();

  constructor(
    private readonly limits: UnauthenticatedLimits,
    private readonly onReject: (reason: ConnectionRejection, source: string) => void,
  ) {}

  /** Starts tracking a new connection; false (and the socket destroyed) when its source is at the limit. */
  admit(socket: Socket): boolean {
    const source = socket.remoteAddress ?? 'unknown';
    const held = this.perSource.get(source) ?? 0;
    if (held >= this.limits.perSource) {
      this.onReject('too_many_unauthenticated', source);
      socket.destroy();
      return false;
    }
    const peer = peerOf(socket);
    this.perSource.set(source, held + 1);
    const timer = setTimeout(() => {
      const p = this.byPeer.get(peer);
      if (p && this.release(peer)) {
        this.onReject('authentication_timeout', source);
        p.socket.destroy();
      }
    }, this.limits.timeoutMs);
    timer.unref();
    this.byPeer.set(peer, { socket, source, timer });
    socket.once('close', () => this.release(peer));
    return true;
  }

  /** The TLS socket that took over a tracked raw socket (destroying the raw one would not close it). */
  adopt(socket: Socket): void {
    const p = this.byPeer.get(peerOf(socket));
    if (p) p.socket = socket;
  }

  /** The connection of `peer` authenticated: it no longer counts and is not timed out. */
  authenticated(peer: string): void {
    this.release(peer);
  }

  /** How many connections from `source` are unauthenticated now. */
  held(source: string): number {
    return this.perSource.get(source) ?? 0;
  }

  private release(peer: string): boolean {
    const p = this.byPeer.get(peer);
    if (!p) return false;
    this.byPeer.delete(peer);
    clearTimeout(p.timer);
    const n = (this.perSource.get(p.source) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(p.source);
    else this.perSource.set(p.source, n);
    return true;
  }

  /** Forgets every connection (on shutdown). */
  clear(): void {
    for (const p of this.byPeer.values()) clearTimeout(p.timer);
    this.byPeer.clear();
    this.perSource.clear();
  }
}
