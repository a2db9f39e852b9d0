import { chmodSync, rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { decodeRequest, encodeResponse } from '../../libs/xds/ads-codec.ts';
import { http2UpstreamOptions } from '../../libs/xds/generate/filters.ts';
import { SDS_CLUSTER } from '../../libs/xds/generate/tls.ts';
import { Names } from '../../libs/xds/names.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { makeResource, type XdsResource } from '../../libs/xds/resource.ts';
import type { IdentityMaterial, WorkloadIdentity } from './identity.ts';
import { rawStreams } from './raw-grpc.ts';

const SDS = rawStreams('envoy.service.secret.v3.SecretDiscoveryService', ['StreamSecrets']);

/** The static cluster Envoy reaches kuma-dp's SDS server through (the name the control plane's TLS contexts use). */
export function sdsCluster(socketPath: string): Record<string, unknown> {
  return {
    name: SDS_CLUSTER,
    type: 'STATIC',
    connect_timeout: { seconds: 1 },
    typed_extension_protocol_options: http2UpstreamOptions(),
    load_assignment: { cluster_name: SDS_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: socketPath } } } }] }] },
  };
}

/**
 * Kuma's two secrets of a mesh, from the identity kuma-dp holds: under the mesh's names, and with
 * a MeshIdentity under the names the control plane gave (the identity's KRI, `system_trust_bundle`).
 */
export function secretsOf(mesh: string, m: IdentityMaterial): Map<string, XdsResource> {
  const out = new Map<string, XdsResource>();
  const certificate = (name: string) => out.set(name, makeResource(TypeUrl.Secret, name, { name, tls_certificate: { certificate_chain: { inline_string: m.certPem }, private_key: { inline_string: m.keyPem } } }));
  const trust = (name: string) => out.set(name, makeResource(TypeUrl.Secret, name, { name, validation_context: { trusted_ca: { inline_string: m.caPem } } }));
  certificate(Names.identitySecret(mesh));
  trust(Names.meshCaSecret(mesh));
  if (m.sdsNames) {
    certificate(m.sdsNames.identity);
    trust(m.sdsNames.trust);
  }
  return out;
}

/**
 * kuma-dp's local SDS server (state of the world) on a Unix socket only this user can open:
 * Envoy asks it for `identity_cert:secret:<mesh>` and `mesh_ca:secret:<mesh>`, and gets each
 * renewed identity pushed. The workload key goes from kuma-dp's memory to Envoy's, nowhere else.
 */
export async function startSdsServer(opts: { socketPath: string; mesh: string; identity: WorkloadIdentity; logger: Logger }): Promise<{ close(): Promise<void> }> {
  const server = new grpc.Server();
  const streams = new Set<() => void>();
  let version = 0;
  let secrets = opts.identity.current ? secretsOf(opts.mesh, opts.identity.current) : new Map<string, XdsResource>();
  const unsubscribe = opts.identity.onChange((m) => {
    secrets = secretsOf(opts.mesh, m);
    version++;
    for (const push of streams) push();
  });
  server.addService(SDS, {
    StreamSecrets: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let names: string[] = [];
      let sent = -1;
      let nonce = 0;
      const push = () => {
        const resources = names.flatMap((n) => secrets.get(n) ?? []);
        if (resources.length === 0 || sent === version) return;
        sent = version;
        call.write(encodeResponse(TypeUrl.Secret, String(version), String(++nonce), resources));
      };
      streams.add(push);
      call.on('data', (buf: Buffer) => {
        let req;
        try {
          req = decodeRequest(buf);
        } catch (err) {
          // Closed with a status the client can read (as the gateway's streams do), this stream only.
          const details = `invalid DiscoveryRequest: ${(err as Error).message}`;
          opts.logger.warn({ component: 'sds', err: details }, 'closing SDS stream');
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details });
          call.destroy();
          return;
        }
        if (req.errorDetail) opts.logger.warn({ component: 'sds', error: req.errorDetail.message }, 'Envoy rejected a secret');
        const wanted = [...req.resourceNames].sort();
        if (wanted.join('\u0000') !== names.join('\u0000')) {
          names = wanted;
          sent = -1;
        }
        push();
      });
      const end = () => streams.delete(push);
      call.on('end', () => {
        end();
        call.end();
      });
      call.on('error', end);
      call.on('close', end);
    },
  });
  rmSync(opts.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${opts.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  chmodSync(opts.socketPath, 0o600);
  opts.logger.info({ component: 'sds', socket: opts.socketPath }, 'SDS server listening');
  return {
    close: async () => {
      unsubscribe();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      rmSync(opts.socketPath, { force: true });
    },
  };
}
