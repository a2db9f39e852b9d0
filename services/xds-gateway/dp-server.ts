import * as grpc from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
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

  constructor(
    grpcServer: grpc.Server,
    private readonly http: HttpServer,
    private readonly logger: Logger,
  ) {
    this.injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  async listenTls(port: number, host: string, tls: TlsMaterial): Promise<number> {
    const server = createTlsServer({ cert: tls.cert, key: tls.key, ALPNProtocols: ['http/1.1', 'h2'] }, (socket: TLSSocket) => {
      this.track(socket);
      if (socket.alpnProtocol === 'h2') this.injector.injectConnection(socket);
      else this.http.emit('connection', socket);
    });
    server.on('tlsClientError', (err) => this.logger.debug({ component: 'dp-server', err: err.message }, 'TLS handshake failed'));
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
  }
}
