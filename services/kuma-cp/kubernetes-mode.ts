import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EventLog } from '../../libs/event-log/port.ts';
import { InjectorWebhook, ValidatingWebhook } from '../../libs/kubernetes/admission.ts';
import { AdmissionServer } from '../../libs/kubernetes/admission-server.ts';
import { defaultInjectorConfig, type InjectorConfig } from '../../libs/kubernetes/injector.ts';
// The webhook configurations `kumactl install control-plane` writes (Kuma's names); a generated certificate's CA is kept current in them.
import { MUTATING_WEBHOOK_CONFIGURATION, VALIDATING_WEBHOOK_CONFIGURATION } from '../../libs/kubernetes/install.ts';
import { KubernetesLogSource } from '../../libs/kubernetes/log-source.ts';
import { LeaderElector } from '../../libs/kubernetes/leader-election.ts';
import { MeshDefaultsController } from '../../libs/kubernetes/mesh-defaults.ts';
import { KUMA_GROUP, KUMA_VERSION, PodController } from '../../libs/kubernetes/pod-controller.ts';
import type { KumaCpConfig } from '../../libs/platform/config.ts';
import type { Lifecycle } from '../../libs/platform/lifecycle.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import { loadOrCreateTls } from '../xds-gateway/tls.ts';

/** What a write through the REST API is told in Kubernetes mode (Kuma's API is read-only there too). */
export const KUBERNETES_READ_ONLY =
  "on Kubernetes the state of Kuma resources cannot be changed through the HTTP API or 'kumactl apply': use 'kubectl apply'. Reads work as everywhere.";

/**
 * `store.type: kubernetes` in kuma-cp: the cluster (KUBECONFIG, else the in-cluster service
 * account) is the source of truth. The kuma.io custom resources feed the log
 * (KubernetesLogSource), the Pod controller keeps a Dataplane object per injected Pod, the
 * admission server injects sidecars and validates kuma.io objects, every Mesh gets its default
 * policies and CA Secrets written to the cluster, and the `default` Mesh is created as a custom
 * resource, as Kuma does, unless defaults.skipMeshCreation. The system namespace's Kuma Secrets
 * are the log's Secrets. Every replica follows the cluster into its own log and serves the
 * webhooks; only the leader (a Lease, `cp-leader-lease`) writes Dataplanes, defaults and Meshes.
 */
export function kubernetesMode(config: KumaCpConfig, log: EventLog, registry: TypeRegistry, logger: Logger, lifecycle: Lifecycle): { start(): Promise<{ admissionPort: number }> } {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const systemNamespace = config.store.kubernetes.systemNamespace;
  const source = new KubernetesLogSource(kc, log, registry, { logger, secretsNamespace: systemNamespace });
  // What only the leader runs: made anew for each term (a stopped controller does not start again).
  let leading: { pods: PodController; meshDefaults: MeshDefaultsController } | undefined;
  const elector = new LeaderElector(kc, {
    namespace: systemNamespace,
    name: LEADER_LEASE,
    identity: process.env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    logger,
    onStartedLeading: async () => {
      const pods = new PodController(kc, { logger, ...(config.multizone.zone.name && config.multizone.zone.name !== 'default' ? { zone: config.multizone.zone.name } : {}) });
      const meshDefaults = new MeshDefaultsController(kc, { logger, systemNamespace, registry });
      leading = { pods, meshDefaults };
      if (!config.defaults.skipMeshCreation) await ensureDefaultMeshObject(kc, logger);
      await meshDefaults.start();
      await pods.start();
    },
    onStoppedLeading: async () => {
      const term = leading;
      leading = undefined;
      await Promise.all([term?.pods.stop(), term?.meshDefaults.stop()]);
    },
  });
  const rt = config.runtime.kubernetes;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const notFound = (err: unknown) => (err as { code?: number }).code === 404;
  let injectorConfig: InjectorConfig | undefined;
  const injector = new InjectorWebhook(
    () => injectorConfig!,
    {
      // The Pod controller's caches, read through to the API server when they do not hold it (yet).
      namespace: async (name) => leading?.pods.namespace(name) ?? (await core.readNamespace({ name }).catch((err: unknown) => (notFound(err) ? undefined : Promise.reject(err as Error)))),
      meshExists: async (name) =>
        leading?.pods.meshExists(name) ||
        (await custom.getClusterCustomObject({ group: KUMA_GROUP, version: KUMA_VERSION, plural: 'meshes', name }).then(
          () => true,
          (err: unknown) => (notFound(err) ? false : Promise.reject(err as Error)),
        )),
    },
    logger,
  );
  const admission = new AdmissionServer({
    address: rt.admissionServer.address,
    port: rt.admissionServer.port,
    certDir: rt.admissionServer.certDir,
    serviceName: rt.controlPlaneServiceName,
    namespace: config.store.kubernetes.systemNamespace,
    webhookConfigurations: { mutating: [MUTATING_WEBHOOK_CONFIGURATION], validating: [VALIDATING_WEBHOOK_CONFIGURATION] },
    injector,
    // The control plane, and Kubernetes' garbage collector (it updates the owner references of what a deleted Pod owned).
    validator: new ValidatingWebhook(registry, { dataplaneWriters: [rt.serviceAccountName || `system:serviceaccount:${systemNamespace}:kuma-control-plane`, GARBAGE_COLLECTOR] }),
    logger,
  });
  return {
    async start() {
      // A generated data plane server certificate is kept in the cluster, so every replica and every restart serves the one the sidecars trust.
      if (!config.general.tlsCertFile) await sharedDpServerCertificate(core, config, logger);
      injectorConfig = await injectorConfigOf(config, logger);
      // Registered first: a start that fails part way (a cluster that never lists) still stops them.
      lifecycle.onShutdown('kubernetes log source', () => source.stop());
      // The leader's Pod controller and mesh defaults stop with the election (the lease released, so another replica takes over at once).
      lifecycle.onShutdown('kubernetes leader election', () => elector.stop());
      lifecycle.onShutdown('admission server', () => admission.stop());
      // The webhooks first: the API server asks them about this control plane's own writes too (the default Mesh).
      await admission.start(kc);
      // Every replica follows the cluster into its own log; one at a time writes back to it.
      await source.start();
      elector.start();
      logger.info({ component: 'k8s-store', server: kc.getCurrentCluster()?.server }, 'following the cluster');
      return { admissionPort: admission.port };
    },
  };
}

/** Kubernetes' garbage collector's user (Kuma allows it too). */
const GARBAGE_COLLECTOR = 'system:serviceaccount:kube-system:generic-garbage-collector';

/** The Lease of the replica that writes to the cluster (Kuma's name). */
export const LEADER_LEASE = 'cp-leader-lease';

/** The Secret that holds the generated data plane server certificate (when general.tlsCertFile is not set). */
export const DP_SERVER_TLS_SECRET = 'kuma-cp-dp-server-tls';

/**
 * Without general.tlsCertFile, the data plane server's certificate is generated (as in universal
 * mode) but kept in the Secret `kuma-cp-dp-server-tls` of the system namespace: the first replica
 * to start writes it, every later start (and every other replica) takes it from there into its work
 * directory. Otherwise a restarted control plane would serve a certificate the injected sidecars,
 * which carry the old one as their CA, do not trust.
 */
async function sharedDpServerCertificate(core: k8s.CoreV1Api, config: KumaCpConfig, logger: Logger): Promise<void> {
  const namespace = config.store.kubernetes.systemNamespace;
  const certFile = join(config.general.workDir, 'dp-server.crt');
  const keyFile = join(config.general.workDir, 'dp-server.key');
  const adopt = (s: k8s.V1Secret) => {
    const cert = s.data?.['tls.crt'];
    const key = s.data?.['tls.key'];
    if (!cert || !key) throw new Error(`Secret ${namespace}/${DP_SERVER_TLS_SECRET} lacks tls.crt or tls.key`);
    mkdirSync(config.general.workDir, { recursive: true });
    writeFileSync(keyFile, Buffer.from(key, 'base64'), { mode: 0o600 });
    writeFileSync(certFile, Buffer.from(cert, 'base64'));
  };
  const existing = await core.readNamespacedSecret({ name: DP_SERVER_TLS_SECRET, namespace }).catch((err: unknown) => ((err as { code?: number }).code === 404 ? undefined : Promise.reject(err as Error)));
  if (existing) {
    adopt(existing);
    logger.info({ component: 'dp-server', secret: `${namespace}/${DP_SERVER_TLS_SECRET}` }, 'serving the data plane server certificate kept in the cluster');
    return;
  }
  const tls = await loadOrCreateTls({ certFile: '', keyFile: '', workDir: config.general.workDir, logger, config });
  const body: k8s.V1Secret = {
    metadata: { name: DP_SERVER_TLS_SECRET, namespace, labels: { 'app.kubernetes.io/name': 'kuma', 'app.kubernetes.io/component': 'control-plane' } },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(tls.cert).toString('base64'), 'tls.key': Buffer.from(tls.key).toString('base64') },
  };
  try {
    await core.createNamespacedSecret({ namespace, body });
    logger.info({ component: 'dp-server', secret: `${namespace}/${DP_SERVER_TLS_SECRET}` }, 'kept the generated data plane server certificate in the cluster');
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    // Another replica was first: serve its certificate.
    adopt(await core.readNamespacedSecret({ name: DP_SERVER_TLS_SECRET, namespace }));
  }
}

/** What the injector puts into Pods: kuma-dp reaches the data plane server through the control plane's Service and trusts its certificate. */
async function injectorConfigOf(config: KumaCpConfig, logger: Logger): Promise<InjectorConfig> {
  const rt = config.runtime.kubernetes;
  const sc = rt.injector.sidecarContainer;
  const caCert = rt.injector.caCertFile
    ? readFileSync(rt.injector.caCertFile, 'utf8')
    : (await loadOrCreateTls({ certFile: config.general.tlsCertFile, keyFile: config.general.tlsKeyFile, workDir: config.general.workDir, logger, config })).cert;
  return defaultInjectorConfig({
    controlPlaneUrl: `https://${rt.controlPlaneServiceName}.${config.store.kubernetes.systemNamespace}:${config.dpServer.port}`,
    controlPlaneCaCert: caCert,
    sidecarImage: sc.image,
    initImage: rt.injector.initContainer.image,
    uid: sc.uid,
    gid: sc.gid,
    redirectPortInbound: sc.redirectPortInbound,
    redirectPortOutbound: sc.redirectPortOutbound,
    adminPort: sc.adminPort,
    drainTime: sc.drainTime,
    cniEnabled: rt.injector.cniEnabled,
  });
}

/** Kuma's default Mesh, as a custom resource, when the cluster has none of that name. */
async function ensureDefaultMeshObject(kc: k8s.KubeConfig, logger: Logger): Promise<void> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const ref = { group: KUMA_GROUP, version: KUMA_VERSION, plural: 'meshes' };
  try {
    await custom.getClusterCustomObject({ ...ref, name: 'default' });
    return;
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  await custom.createClusterCustomObject({ ...ref, body: { apiVersion: `${KUMA_GROUP}/${KUMA_VERSION}`, kind: 'Mesh', metadata: { name: 'default' }, spec: {} } }).catch((err: unknown) => {
    // Another replica made it first.
    if ((err as { code?: number }).code !== 409) throw err;
  });
  logger.info({ component: 'k8s-store' }, 'created the default Mesh');
}
