import type { V1Container, V1Namespace, V1Node, V1ObjectMeta, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { PROTOCOL_TAG, SERVICE_TAG, ZONE_TAG } from '../resources/tags.ts';

/**
 * Kuma 2.14's PodConverter.PodToDataplane (pkg/plugins/runtime/k8s/controllers/pod_converter.go,
 * inbound_converter.go), as a pure function: a Pod that the injector marked, the Services of its
 * namespace and what its owners are, in; the Dataplane Kuma would write, out. The controller that
 * watches Pods, Services and Namespaces calls it on every change, so the same objects give the
 * same Dataplane whatever order they changed in.
 */

export const SIDECAR_CONTAINER = 'kuma-sidecar';
/** Kuma's TCPPortReserved: the inbound of a Pod that no Service selects. */
export const SERVICELESS_PORT = 49151;
export const NAMESPACE_TAG = 'k8s.kuma.io/namespace';
export const SERVICE_NAME_TAG = 'k8s.kuma.io/service-name';
export const SERVICE_PORT_TAG = 'k8s.kuma.io/service-port';
export const INSTANCE_TAG = 'kuma.io/instance';
/** What `appProtocol` may say for Kuma to take it (pkg/core/metadata/protocol.go); anything else is ignored. */
const KNOWN_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'tls', 'http', 'http2', 'grpc', 'kafka', 'mysql']);
/** Node labels Kuma copies onto inbound tags by default (nodeLabelsToCopy). */
export const NODE_LABELS_TO_COPY = ['topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'kubernetes.io/hostname'];

/** The objects a Pod's owners are, looked up by the caller (its informers' caches): a ReplicaSet's Deployment, a Job's CronJob. */
export type OwnerLookup = (kind: string, namespace: string, name: string) => { readonly metadata?: V1ObjectMeta } | undefined;

export interface ConversionInput {
  readonly pod: V1Pod;
  /** The Services of the Pod's namespace (those that select it are found here). */
  readonly services: readonly V1Service[];
  readonly namespace?: V1Namespace;
  /** The node the Pod runs on: its topology labels become inbound tags. */
  readonly node?: V1Node;
  readonly owners?: OwnerLookup;
  /** The zone this control plane runs in (`kuma.io/zone`), if it is a zone of a multi-zone deployment. */
  readonly zone?: string;
  /** KUMA_RUNTIME_KUBERNETES_WORKLOAD_LABELS: the first of these the Pod has names its workload, else its ServiceAccount. */
  readonly workloadLabels?: readonly string[];
}

/** A Dataplane as the REST API and the log take it (`type`, `mesh`, `name`, `labels`, `networking`). */
export interface ConvertedDataplane {
  readonly type: 'Dataplane';
  readonly mesh: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly networking: Record<string, unknown>;
}

export type Conversion =
  | { readonly dataplane: ConvertedDataplane; readonly warnings: readonly string[] }
  /**
   * No Dataplane: why. `keep`: an existing one stays (a Pod without an IP yet); otherwise there
   * is to be none (a Pod not injected, or one that completed, as Kuma removes those of Jobs).
   */
  | { readonly skipped: string; readonly keep?: true };

const own = (m: Record<string, string> | undefined, key: string): string | undefined => (m && Object.hasOwn(m, key) ? m[key] : undefined);
const label = (m: V1ObjectMeta | undefined, key: string): string | undefined => own(m?.labels, key);
const annotation = (m: V1ObjectMeta | undefined, key: string): string | undefined => own(m?.annotations, key);

/** The mesh of a Pod: its `kuma.io/mesh` label, its namespace's, the deprecated annotation, else `default`. */
export function meshOf(pod: V1Pod, namespace?: V1Namespace): string {
  return label(pod.metadata, 'kuma.io/mesh') ?? annotation(pod.metadata, 'kuma.io/mesh') ?? label(namespace?.metadata, 'kuma.io/mesh') ?? annotation(namespace?.metadata, 'kuma.io/mesh') ?? 'default';
}

export function convertPod(input: ConversionInput): Conversion {
  const { pod } = input;
  const meta = pod.metadata ?? {};
  const name = meta.name ?? '';
  const ns = meta.namespace ?? 'default';
  if (annotation(meta, 'kuma.io/sidecar-injected') !== 'true') return { skipped: `Pod ${ns}/${name} has no sidecar (annotation kuma.io/sidecar-injected is not "true")` };
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return { skipped: `Pod ${ns}/${name} has completed (${phase})` };
  const address = pod.status?.podIP;
  if (!address) return { skipped: `Pod ${ns}/${name} has no IP yet`, keep: true };
  const warnings: string[] = [];
  const mesh = meshOf(pod, input.namespace);

  const selecting = input.services.filter((svc) => selects(svc, pod));
  const inbound: Record<string, unknown>[] = [];
  for (const svc of selecting) {
    for (const port of svc.spec?.ports ?? []) {
      if (port.protocol !== undefined && port.protocol !== 'TCP') continue;
      const found = findPort(pod, port);
      if (!found) {
        warnings.push(`Service ${ns}/${svc.metadata?.name} port ${port.port}: the Pod has no container port ${JSON.stringify(port.targetPort ?? port.port)}; no inbound for it`);
        continue;
      }
      const protocol = protocolOf(svc, port, warnings);
      const tags: Record<string, string> = {
        ...podTags(pod, input),
        [SERVICE_NAME_TAG]: svc.metadata?.name ?? '',
        [SERVICE_PORT_TAG]: String(port.port),
        [SERVICE_TAG]: `${svc.metadata?.name}_${ns}_svc_${port.port}`,
        [PROTOCOL_TAG]: protocol,
        ...(svc.spec?.clusterIP === 'None' ? { [INSTANCE_TAG]: name } : {}),
      };
      const ready = readiness(pod, found.container);
      inbound.push({
        port: found.port,
        ...(found.name ? { name: found.name } : {}),
        tags: sorted(tags),
        state: ready ? 'Ready' : 'NotReady',
        health: { ready },
      });
    }
  }
  if (selecting.length === 0) {
    const tags = { ...podTags(pod, input), [SERVICE_TAG]: `${servicelessName(pod, input.owners)}_${ns}_svc`, [PROTOCOL_TAG]: 'tcp', [INSTANCE_TAG]: name };
    const ready = readiness(pod, undefined);
    inbound.push({ port: SERVICELESS_PORT, tags: sorted(tags), state: ready ? 'Ready' : 'NotReady', health: { ready } });
  }

  const networking: Record<string, unknown> = { address, inbound };
  const tp = transparentProxying(meta, warnings);
  if (tp) networking['transparentProxying'] = tp;
  const adminPort = intAnnotation(meta, 'kuma.io/envoy-admin-port', warnings);
  if (adminPort !== undefined) networking['admin'] = { port: adminPort };

  const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
  const workload = (input.workloadLabels ?? []).map((l) => label(meta, l)).find((v) => v !== undefined && v !== '') ?? serviceAccount;
  const labels: Record<string, string> = {
    ...(meta.labels ?? {}),
    'kuma.io/mesh': mesh,
    [NAMESPACE_TAG]: ns,
    'kuma.io/proxy-type': 'sidecar',
    'k8s.kuma.io/service-account': serviceAccount,
    'kuma.io/workload': workload,
    ...(input.zone ? { [ZONE_TAG]: input.zone } : {}),
  };
  return { dataplane: { type: 'Dataplane', mesh, name, labels: sorted(labels), networking }, warnings };
}

/** Whether a Service routes to the Pod: a selector (non-empty) that the Pod's labels match, not ExternalName, not `kuma.io/ignore`. */
export function selects(svc: V1Service, pod: V1Pod): boolean {
  if (svc.metadata?.namespace !== undefined && svc.metadata.namespace !== (pod.metadata?.namespace ?? 'default')) return false;
  if (svc.spec?.type === 'ExternalName' || annotation(svc.metadata, 'kuma.io/ignore') === 'true') return false;
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/** util_k8s.FindPort: the container port a Service port targets, by number or by name. */
function findPort(pod: V1Pod, port: V1ServicePort): { port: number; name?: string; container?: V1Container } | undefined {
  const target = port.targetPort ?? port.port;
  const containers = pod.spec?.containers ?? [];
  if (typeof target === 'number' || /^\d+$/.test(target)) {
    const n = Number(target);
    for (const c of containers) for (const p of c.ports ?? []) if (p.containerPort === n && (p.protocol ?? 'TCP') === 'TCP') return { port: n, ...(p.name ? { name: p.name } : {}), container: c };
    // A number that no container declares is still where the Service sends traffic.
    return { port: n };
  }
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === 'TCP') return { port: p.containerPort, name: p.name, container: c };
  return undefined;
}

/** ProtocolTagFor: `appProtocol` when Kuma knows it, else the `<port>.service.kuma.io/protocol` annotation (lowercased, as given), else tcp. */
function protocolOf(svc: V1Service, port: V1ServicePort, warnings: string[]): string {
  const app = port.appProtocol?.toLowerCase();
  if (app !== undefined && KNOWN_PROTOCOLS.has(app)) return app;
  const annotated = annotation(svc.metadata, `${port.port}.service.kuma.io/protocol`);
  if (annotated !== undefined && annotated !== '') {
    const p = annotated.toLowerCase();
    if (!KNOWN_PROTOCOLS.has(p)) warnings.push(`Service ${svc.metadata?.namespace ?? ''}/${svc.metadata?.name} annotation ${port.port}.service.kuma.io/protocol: unknown protocol "${annotated}", kept lowercased as Kuma keeps it`);
    return p;
  }
  return 'tcp';
}

/** Inbound tags every inbound of the Pod has: its labels (non-empty, without `kuma.io/` keys), its namespace, zone and node topology. */
function podTags(pod: V1Pod, input: ConversionInput): Record<string, string> {
  // Entries, not assignments: a label named `__proto__` is a tag like any other.
  const tags: [string, string][] = Object.entries(pod.metadata?.labels ?? {}).filter(([k, v]) => v !== '' && !k.includes('kuma.io/'));
  tags.push([NAMESPACE_TAG, pod.metadata?.namespace ?? 'default']);
  if (input.zone) tags.push([ZONE_TAG, input.zone]);
  for (const key of NODE_LABELS_TO_COPY) {
    const v = label(input.node?.metadata, key);
    if (v) tags.push([key, v]);
  }
  return Object.fromEntries(tags);
}

/** Ready unless the Pod is terminating, the container serving the port is not ready, or the sidecar is not. */
function readiness(pod: V1Pod, container: V1Container | undefined): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  for (const s of pod.status?.containerStatuses ?? []) {
    if (!s.ready && (s.name === SIDECAR_CONTAINER || s.name === container?.name)) return false;
  }
  return true;
}

/** serviceless_name_extractor: a Deployment's name for its ReplicaSets' Pods, a CronJob's for its Jobs', the owner's otherwise, else the Pod's. */
function servicelessName(pod: V1Pod, owners: OwnerLookup | undefined): string {
  const ns = pod.metadata?.namespace ?? 'default';
  const owner = controllerOf(pod.metadata);
  if (!owner) return pod.metadata?.name ?? '';
  if (owner.kind === 'ReplicaSet' || owner.kind === 'Job') {
    const parent = controllerOf(owners?.(owner.kind, ns, owner.name)?.metadata);
    if (parent && ((owner.kind === 'ReplicaSet' && parent.kind === 'Deployment') || (owner.kind === 'Job' && parent.kind === 'CronJob'))) return parent.name;
  }
  return owner.name;
}

function controllerOf(meta: V1ObjectMeta | undefined): { kind: string; name: string } | undefined {
  const refs = meta?.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller) ?? refs[0];
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

/** The injector's transparent proxy annotations; both redirect ports are required once it is enabled. */
function transparentProxying(meta: V1ObjectMeta, warnings: string[]): Record<string, unknown> | undefined {
  if (annotation(meta, 'kuma.io/transparent-proxying') !== 'enabled') return undefined;
  const inbound = intAnnotation(meta, 'kuma.io/transparent-proxying-inbound-port', warnings);
  const outbound = intAnnotation(meta, 'kuma.io/transparent-proxying-outbound-port', warnings);
  if (inbound === undefined || outbound === undefined) {
    warnings.push('annotation kuma.io/transparent-proxying is enabled without both kuma.io/transparent-proxying-inbound-port and -outbound-port: no transparent proxying');
    return undefined;
  }
  const tp: Record<string, unknown> = { redirectPortInbound: inbound, redirectPortOutbound: outbound };
  const family = annotation(meta, 'kuma.io/transparent-proxying-ip-family-mode');
  if (family === 'ipv4' || family === 'dualstack') tp['ipFamilyMode'] = family === 'ipv4' ? 'IPv4' : 'DualStack';
  else if (family !== undefined) warnings.push(`annotation kuma.io/transparent-proxying-ip-family-mode: "${family}" is neither dualstack nor ipv4 (dualstack is used)`);
  const list = (key: string) => annotation(meta, key)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const direct = list('kuma.io/direct-access-services');
  if (direct?.length) tp['directAccessServices'] = direct;
  const reachable = list('kuma.io/transparent-proxying-reachable-services');
  if (reachable?.length) tp['reachableServices'] = reachable;
  return tp;
}

function intAnnotation(meta: V1ObjectMeta, key: string, warnings: string[]): number | undefined {
  const raw = annotation(meta, key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
  warnings.push(`annotation ${key}: "${raw}" is not a port`);
  return undefined;
}

function sorted(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
