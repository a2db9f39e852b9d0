import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EventLog } from '../../libs/event-log/port.ts';
import { KubernetesLogSource } from '../../libs/kubernetes/log-source.ts';
import { KUMA_GROUP, KUMA_VERSION, PodController } from '../../libs/kubernetes/pod-controller.ts';
import type { KumaCpConfig } from '../../libs/platform/config.ts';
import type { Lifecycle } from '../../libs/platform/lifecycle.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';

/** What a write through the REST API is told in Kubernetes mode (Kuma's API is read-only there too). */
export const KUBERNETES_READ_ONLY =
  "on Kubernetes the state of Kuma resources cannot be changed through the HTTP API or 'kumactl apply': use 'kubectl apply'. Reads work as everywhere.";

/**
 * `store.type: kubernetes` in kuma-cp: the cluster (KUBECONFIG, else the in-cluster service
 * account) is the source of truth. The kuma.io custom resources feed the log
 * (KubernetesLogSource), the Pod controller keeps a Dataplane object per injected Pod, and the
 * `default` Mesh is created as a custom resource, as Kuma does, unless defaults.skipMeshCreation.
 */
export function kubernetesMode(config: KumaCpConfig, log: EventLog, registry: TypeRegistry, logger: Logger, lifecycle: Lifecycle): { start(): Promise<void> } {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const source = new KubernetesLogSource(kc, log, registry, { logger });
  const pods = new PodController(kc, { logger, ...(config.multizone.zone.name && config.multizone.zone.name !== 'default' ? { zone: config.multizone.zone.name } : {}) });
  return {
    async start() {
      if (!config.defaults.skipMeshCreation) await ensureDefaultMeshObject(kc, logger);
      // Registered first: a start that fails part way (a cluster that never lists) still stops them.
      lifecycle.onShutdown('kubernetes log source', () => source.stop());
      lifecycle.onShutdown('kubernetes pod controller', () => pods.stop());
      await source.start();
      await pods.start();
      logger.info({ component: 'k8s-store', server: kc.getCurrentCluster()?.server }, 'following the cluster');
    },
  };
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
