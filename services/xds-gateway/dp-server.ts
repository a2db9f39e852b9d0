import * as grpc from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { UnauthenticatedConnections, type ConnectionRejection, type UnauthenticatedLimits } from './unauthenticated.ts';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

/** What a client of the TLS port (0.0.0.0) may hold before it authenticates. */
export interface DpServerLimits {
  /** Time for the TLS handshake and for an HTTP/1.1 request's headers (Kuma's dpServer.readHeaderTimeout). */
  readonly readHeaderTimeoutMs: number;
  /** Unauthenticated connections per source address, and how long each may stay so; also bounds a whole HTTP/1.1 request. */
  readonly unauthenticated: UnauthenticatedLimits;
  readonly onReject?: (reason: ConnectionRejection) => void;
}

/**
 * The data plane server port, as Kuma's: gRPC (ADS) and HTTP/1.1 (`POST /bootstrap`) on one
 * port. Over TLS the ALPN protocol picks the handler: http/1.1 is preferred, so an HTTP client
 * that also offers h2 gets HTTP/1.1, while gRPC clients (Envoy, gRPC), which offer only h2, get
 * gRPC. The plaintext port (loopback only) serves ADS alone.
 */
export class DpServer {
  private readonly injector: grpc.ConnectionInjector;
  private readonly listeners: (TlsServer | NetServer)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly pending: UnauthenticatedConnections;

  constructor(
    grpcServer: grpc.Server,
    private readonly http: HttpServer,
    private readonly logger: Logger,
    private readonly limits: DpServerLimits,
  ) {
    this.injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    http.headersTimeout = limits.readHeaderTimeoutMs;
    http.requestTimeout = Math.max(limits.unauthenticated.timeoutMs, limits.readHeaderTimeoutMs + 1);
    this.pending = new UnauthenticatedConnections(limits.unauthenticated, (reason, source) => this.reject(reason, source));
  }

  private reject(reason: ConnectionRejection, source: string): void {
    this.limits.onReject?.(reason);
    this.logger.debug({ component: 'dp-server', reason, source }, 'closed an unauthenticated connection');
  }

  /**
   * The connection of `peer` (`address:port`) authenticated a stream or a bootstrap request: it
   * no longer counts against its source's limit and is not timed out.
   */
  authenticated(peer: string): void {
    this.pending.authenticated(peer);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  async listenTls(port: number, host: string, tls: TlsMaterial): Promise<number> {
    const server = createTlsServer(
      { cert: tls.cert, key: tls.key, ALPNProtocols: ['http/1.1', 'h2'], handshakeTimeout: this.limits.readHeaderTimeoutMs },
      (socket: TLSSocket) => {
        this.track(socket);
        this.pending.adopt(socket);
        if (socket.alpnProtocol === 'h2') this.injector.injectConnection(socket);
        else this.http.emit('connection', socket);
      },
    );
    // Every connection counts as unauthenticated from its first byte: admitted (or refused, by
    // destroying it) before the TLS server wraps it.
    server.prependListener('connection', (raw: Socket) => {
      if (this.pending.admit(raw)) this.track(raw);
    });
    // Node emits this without closing the socket (a handshake timeout would otherwise hold it).
    server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      socket.destroy();
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') this.reject('handshake_timeout', socket.remoteAddress ?? 'unknown');
      else this.logger.debug({ component: 'dp-server', err: err.message }, 'TLS handshake failed');
    });
    return this.listen(server, port, host);
  }

  /**
   * ADS only. (The HTTP/2 session reads the socket's native handle, so bytes peeked to tell
   * HTTP/1.1 apart would never reach it; bootstrap is served on the TLS port.)
   */
  async listenPlaintext(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createNetServer((socket) => {
      this.track(socket);
      this.injector.injectConnection(socket);
    });
    return this.listen(server, port, host);
  }

  private listen(server: TlsServer | NetServer, port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // A large backlog absorbs reconnect storms (the kernel still caps it at somaxconn).
      server.listen({ port, host, backlog: 4096 }, () => {
        server.off('error', reject);
        this.listeners.push(server);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Stops accepting, lets streams finish for `graceMs`, then destroys what is left. */
  async close(graceMs = 2000): Promise<void> {
    await Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    this.injector.drain(graceMs);
    await new Promise((r) => setTimeout(r, Math.min(graceMs, this.sockets.size > 0 ? graceMs : 0)));
    this.injector.destroy();
    for (const s of this.sockets) s.destroy();
    this.pending.clear();
  }
}
