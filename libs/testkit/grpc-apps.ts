import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';

/**
 * Real gRPC applications for end-to-end tests: an xDS-enabled server and an xDS client of a
 * tiny Greeter service (raw-bytes codec, so no .proto is needed). Each gets its own xDS
 * bootstrap (node id `<mesh>.<name>`) through grpc-js-xds' per-channel bootstrap option, so
 * many identities can live in one test process.
 */
xds.register();

const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';
const id = (b: Buffer) => b;

export const greeterService = {
  hello: {
    path: '/kuma.test.Greeter/Hello',
    requestStream: false,
    responseStream: false,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  },
} as unknown as grpc.ServiceDefinition;

export function grpcBootstrap(serverUri: string, nodeId: string): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: serverUri, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, locality: {} },
    server_listener_resource_name_template: 'kuma.io/grpc/inbound/%s',
  });
}

/** An xDS-enabled Greeter server answering `hello from <name>`. Resolves once serving. */
export async function startXdsGreeter(opts: { serverUri: string; nodeId: string; port: number; name: string }): Promise<{ stop(): Promise<void> }> {
  const server = new xds.XdsServer({ [BOOTSTRAP_OPTION]: grpcBootstrap(opts.serverUri, opts.nodeId) } as never);
  server.addService(greeterService, {
    hello: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(`hello from ${opts.name}`)),
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return { stop: () => new Promise((r) => server.tryShutdown(() => r())) };
}

/** A plain (non-xDS) Greeter server, for a backend that must never be reached. */
export async function startPlainGreeter(port: number, name: string): Promise<{ stop(): Promise<void>; calls: () => number }> {
  let calls = 0;
  const server = new grpc.Server();
  server.addService(greeterService, {
    hello: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      calls++;
      cb(null, Buffer.from(`hello from ${name}`));
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return { stop: () => new Promise((r) => server.tryShutdown(() => r())), calls: () => calls };
}

const GreeterClient = grpc.makeGenericClientConstructor(greeterService, 'Greeter');

export interface GreeterClient {
  hello(timeoutMs?: number): Promise<string>;
  close(): void;
}

/** An xDS client of `xds:///<service>` as proxy `nodeId`. */
export function xdsGreeterClient(opts: { serverUri: string; nodeId: string; service: string }): GreeterClient {
  return xdsGreeterClientFromBootstrap(grpcBootstrap(opts.serverUri, opts.nodeId), opts.service);
}

/**
 * An xDS client of `xds:///<service>` with a given gRPC xDS bootstrap (e.g. one kuma-dp wrote).
 * With `xdsCredentials`, it speaks whatever TLS the control plane configures (its mTLS), else plaintext.
 */
export function xdsGreeterClientFromBootstrap(bootstrap: string, service: string, opts: { xdsCredentials?: boolean } = {}): GreeterClient {
  const creds = opts.xdsCredentials ? new xds.XdsChannelCredentials(grpc.credentials.createInsecure()) : grpc.credentials.createInsecure();
  const client = new GreeterClient(`xds:///${service}`, creds, { [BOOTSTRAP_OPTION]: bootstrap } as never);
  return greeterClient(client);
}

/**
 * One call of `xds:///greeter` with a fresh mTLS-capable client from the bootstrap file (a failed
 * attempt must not leave the next one waiting out gRPC's backoff): the answer, or `error: <message>`.
 */
export async function callGreeterOnce(bootstrapFile: string): Promise<string> {
  const client = xdsGreeterClientFromBootstrap(readFileSync(bootstrapFile, 'utf8'), 'greeter', { xdsCredentials: true });
  try {
    return await client.hello(3000).catch((e: Error) => `error: ${e.message}`);
  } finally {
    client.close();
  }
}

/** A plain gRPC client of a Greeter at `address` (no xDS), with the given credentials. */
export function directGreeterClient(address: string, creds: grpc.ChannelCredentials = grpc.credentials.createInsecure()): GreeterClient {
  return greeterClient(new GreeterClient(address, creds));
}

function greeterClient(client: grpc.Client): GreeterClient {
  return {
    hello: (timeoutMs = 5000) =>
      new Promise((resolve, reject) =>
        (client as unknown as { hello: (req: Buffer, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: Error | null, r?: Buffer) => void) => void }).hello(
          Buffer.from('hi'),
          new grpc.Metadata(),
          { deadline: Date.now() + timeoutMs },
          (err, res) => (err ? reject(err) : resolve(res!.toString())),
        ),
      ),
    close: () => client.close(),
  };
}
