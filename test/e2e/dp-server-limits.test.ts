import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adsChannel, FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { httpDataplane } from '../../libs/testkit/dataplanes.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Bounds on what a client of the data plane server holds before it authenticates: real TCP,
 * TLS and gRPC clients against a real kuma-cp.
 */
const READ_HEADER_MS = 1000;
const AUTH_MS = 3000;
const PER_SOURCE = 4;

let cp: KumaCpProcess;
let ca: string;
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  cp = await KumaCpProcess.start({
    plaintext: true,
    env: {
      KUMA_STORE_TYPE: 'memory',
      KUMA_DP_SERVER_READ_HEADER_TIMEOUT: `${READ_HEADER_MS}ms`,
      KUMA_DP_SERVER_AUTHENTICATION_TIMEOUT: `${AUTH_MS}ms`,
      KUMA_DP_SERVER_MAX_UNAUTHENTICATED_CONNECTIONS_PER_SOURCE: String(PER_SOURCE),
    },
  });
  ca = readFileSync(cp.caCertFile, 'utf8');
  expect((await http(cp.url, 'PUT', '/meshes/default/dataplanes/web-1', httpDataplane('web-1', 8080, 'web'))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  for (const c of cleanup) c();
  await cp?.destroy();
});

const token = async (name: string) => (await http(cp.url, 'POST', '/tokens/dataplane', { name, mesh: 'default' })).body as string;

/** Resolves with the milliseconds until the server closed `socket` (bounded). It reads (and drops) what arrives, or it would never see the end. */
function closedAfter(socket: Socket, started: number, boundMs = 15_000): Promise<number> {
  socket.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${boundMs} ms`)), boundMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
  });
}

/** A TLS connection that completes its handshake (as gRPC would, ALPN h2) and then sends nothing. */
function silentTls(alpn: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: cp.dpPort, ca, servername: 'localhost', ALPNProtocols: [alpn] });
    cleanup.push(() => s.destroy());
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

function rawTcp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port: cp.dpPort });
    cleanup.push(() => s.destroy());
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cp.diagnosticsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function alive(): Promise<void> {
  expect((await http(cp.url, 'GET', '/')).status).toBe(200);
}

/** `POST /bootstrap` over TLS from `localAddress`. */
function bootstrap(localAddress: string, body: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: cp.dpPort, localAddress, ca, servername: 'localhost', method: 'POST', path: '/bootstrap', headers: { 'content-type': 'application/json' }, agent: false },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('data plane server: clients that have not authenticated', () => {
  it('closes an ADS stream that never sends a request after the bound (DEADLINE_EXCEEDED), and keeps a proxy that did', async () => {
    const before = await metric('kuma_xds_streams_rejected_total', 'reason="FirstRequestTimeoutError"');
    const good = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.web-1', mode: 'sotw', token: await token('web-1') });
    cleanup.push(() => good.close());
    const channel = adsChannel(`127.0.0.1:${cp.dpPlaintextPort}`);
    cleanup.push(() => channel.close());
    const started = performance.now();
    const idle = (channel as unknown as Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<Buffer, Buffer>>)['StreamAggregatedResources']!.call(channel, new grpc.Metadata());
    const error = await new Promise<grpc.ServiceError>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the idle stream was not closed within 15 s')), 15_000);
      idle.on('data', () => undefined);
      idle.once('error', (err: grpc.ServiceError) => {
        clearTimeout(timer);
        resolve(err);
      });
    });
    const elapsed = performance.now() - started;
    expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(elapsed).toBeGreaterThan(AUTH_MS - 500);
    expect(await metric('kuma_xds_streams_rejected_total', 'reason="FirstRequestTimeoutError"')).toBe(before + 1);
    // The proxy that sent its request is still served after the bound.
    await good.waitFor((c) => c.names(TypeUrl.Listener).length > 0);
    expect(good.error).toBeUndefined();
    await alive();
  });

  it('closes a connection that never finishes its TLS handshake after dpServer.readHeaderTimeout', async () => {
    const before = await metric('kuma_dp_server_connections_rejected_total', 'reason="handshake_timeout"');
    const started = performance.now();
    const s = await rawTcp();
    expect(await closedAfter(s, started)).toBeGreaterThan(READ_HEADER_MS - 300);
    // Closed by the handshake bound, not by the (longer) authentication bound.
    await eventually(async () => expect(await metric('kuma_dp_server_connections_rejected_total', 'reason="handshake_timeout"')).toBe(before + 1), 5000);
    await alive();
  });

  it('closes a bootstrap request whose headers or body never complete', async () => {
    const started = performance.now();
    const headers = await silentTls('http/1.1');
    headers.write('POST /bootstrap HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n');
    const body = await silentTls('http/1.1');
    body.write('POST /bootstrap HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"mesh":');
    const [h, b] = await Promise.all([closedAfter(headers, started), closedAfter(body, started)]);
    for (const ms of [h, b]) expect(ms).toBeGreaterThan(READ_HEADER_MS - 300);
    await alive();
  });

  it(`refuses connection ${PER_SOURCE + 1} from one address while ${PER_SOURCE} are unauthenticated, while other work goes on`, async () => {
    const envoy = new FakeEnvoy({ target: `localhost:${cp.dpPort}`, nodeId: 'default.web-1', mode: 'delta', token: await token('web-1'), ca });
    cleanup.push(() => envoy.close());
    await envoy.waitFor((c) => c.names(TypeUrl.Listener).length > 0);
    const refusedBefore = await metric('kuma_dp_server_connections_rejected_total', 'reason="too_many_unauthenticated"');
    const timedOutBefore = await metric('kuma_dp_server_connections_rejected_total', 'reason="authentication_timeout"');

    const started = performance.now();
    const held = await Promise.all(Array.from({ length: PER_SOURCE }, () => silentTls('h2')));
    const heldClosed = held.map((s) => closedAfter(s, started));
    const refused = tlsConnect({ host: '127.0.0.1', port: cp.dpPort, ca, servername: 'localhost', ALPNProtocols: ['h2'] });
    cleanup.push(() => refused.destroy());
    let handshook = false;
    refused.once('secureConnect', () => (handshook = true));
    const refusedMs = await closedAfter(refused, performance.now());
    expect(handshook).toBe(false);
    // Refused at once (the held ones are closed only after AUTH_MS).
    expect(refusedMs).toBeLessThan(AUTH_MS - 500);
    expect(await metric('kuma_dp_server_connections_rejected_total', 'reason="too_many_unauthenticated"')).toBe(refusedBefore + 1);

    // Meanwhile the authenticated proxy is served, another address may bootstrap, and the API answers.
    const mark = envoy.responses.length;
    expect((await http(cp.url, 'PUT', '/meshes/default/dataplanes/web-1', httpDataplane('web-1', 8081, 'web'))).status).toBe(200);
    await envoy.waitFor((c) => c.responses.length > mark && c.names(TypeUrl.Listener).includes('inbound:127.0.0.1:8081'));
    expect(await bootstrap('127.0.0.2', { mesh: 'default', name: 'web-1', dataplaneToken: await token('web-1') })).toBe(200);
    await alive();

    // The held connections are closed after the bound, and the address may connect again.
    for (const ms of await Promise.all(heldClosed)) expect(ms).toBeGreaterThan(AUTH_MS - 500);
    expect(await metric('kuma_dp_server_connections_rejected_total', 'reason="authentication_timeout"')).toBeGreaterThanOrEqual(timedOutBefore + PER_SOURCE);
    const again = await silentTls('h2');
    expect(again.destroyed).toBe(false);
    again.destroy();
    expect(envoy.error).toBeUndefined();
    await alive();
  });
});
