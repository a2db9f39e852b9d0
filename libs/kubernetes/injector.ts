import type { V1Container, V1EnvVar, V1Namespace, V1ObjectMeta, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { defaultConfig } from '../platform/config.ts';
import { parseDuration } from '../platform/duration.ts';
import { PROXYLESS_LABEL } from '../resources/dataplane-model.ts';
import { SIDECAR_CONTAINER, meshOf } from './pod-converter.ts';

/**
 * Kuma 2.14's sidecar injector (pkg/plugins/runtime/k8s/webhooks/injector: injector.go,
 * precheck.go, containers/factory.go, the legacy path without a transparent proxy ConfigMap), as
 * a pure function: a Pod being created and its Namespace in, the Pod as Kuma would admit it out.
 * The mutating webhook (`/inject-sidecar`) calls it and answers with the JSON patch between the two.
 *
 * Beyond Kuma: a Pod labelled `kuma.io/proxyless: "true"` is a proxyless gRPC application. It
 * gets `kuma-dp run --proxyless` as a native sidecar (an init container that keeps running) that
 * writes the gRPC xDS bootstrap into a shared volume, and its application containers get
 * `GRPC_XDS_BOOTSTRAP` pointing at it: no Envoy, no kuma-init, no traffic redirection.
 */

export const INIT_CONTAINER = 'kuma-init';
export const VALIDATION_CONTAINER = 'kuma-validation';
export const SIDECAR_INJECTION = 'kuma.io/sidecar-injection';
export const SIDECAR_INJECTED = 'kuma.io/sidecar-injected';
const SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const GRPC_BOOTSTRAP_DIR = '/var/run/kuma-grpc';
const GRPC_BOOTSTRAP_VOLUME = 'kuma-grpc-bootstrap';

export interface ProbeConfig {
  readonly initialDelaySeconds: number;
  readonly timeoutSeconds: number;
  readonly periodSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export interface InjectorConfig {
  /** Where kuma-dp finds the control plane's data plane server (Kuma: `https://<service>.<namespace>:5678`). */
  readonly controlPlaneUrl: string;
  /** PEM of the CA that signs the data plane server's certificate (KUMA_CONTROL_PLANE_CA_CERT), '' for none. */
  readonly controlPlaneCaCert: string;
  readonly sidecarImage: string;
  readonly initImage: string;
  /** KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_UID / _GID: the proxy's user, exempt from redirection. */
  readonly uid: number;
  readonly gid: number;
  readonly redirectPortInbound: number;
  readonly redirectPortOutbound: number;
  readonly adminPort: number;
  readonly drainTime: string;
  /** The Kuma CNI does the redirection: a validation init container instead of kuma-init. */
  readonly cniEnabled: boolean;
  /** Pods with any of these labels (value `*`: any value) are never injected. */
  readonly exceptionLabels: Readonly<Record<string, string>>;
  readonly readinessProbe: ProbeConfig;
  readonly livenessProbe: ProbeConfig;
  readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string }; readonly limits: { readonly cpu: string; readonly memory: string } };
  /** KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_ENV_VARS: extra environment of the sidecar. */
  readonly envVars: Readonly<Record<string, string>>;
}

/** Kuma 2.14's defaults (kuma-cp.defaults.yaml, runtime.kubernetes.injector), with our images: those kuma-cp's configuration has, from it. */
export function defaultInjectorConfig(over: Partial<InjectorConfig> = {}): InjectorConfig {
  const { sidecarContainer: sc, initContainer, cniEnabled } = defaultConfig().runtime.kubernetes.injector;
  return {
    controlPlaneUrl: 'https://kuma-control-plane.kuma-system:5678',
    controlPlaneCaCert: '',
    sidecarImage: sc.image,
    initImage: initContainer.image,
    uid: sc.uid,
    gid: sc.gid,
    redirectPortInbound: sc.redirectPortInbound,
    redirectPortOutbound: sc.redirectPortOutbound,
    adminPort: sc.adminPort,
    drainTime: sc.drainTime,
    cniEnabled,
    exceptionLabels: { 'openshift.io/build.name': '*', 'openshift.io/deployer-pod-for.name': '*' },
    readinessProbe: { initialDelaySeconds: 1, timeoutSeconds: 3, periodSeconds: 5, successThreshold: 1, failureThreshold: 12 },
    livenessProbe: { initialDelaySeconds: 60, timeoutSeconds: 3, periodSeconds: 5, successThreshold: 1, failureThreshold: 12 },
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1000m', memory: '512Mi' } },
    envVars: {},
    ...over,
  };
}

export interface InjectionInput {
  readonly pod: V1Pod;
  /** The Pod's namespace (admission requests carry its name; the webhook reads it). */
  readonly namespace: V1Namespace | undefined;
  /** Whether a Mesh of this name exists (the webhook looks it up before calling). */
  readonly meshExists: (mesh: string) => boolean;
}

export type Injection =
  /** The Pod to admit, and what Kuma only logs about it. */
  | { readonly pod: V1Pod; readonly mesh: string; readonly warnings: readonly string[] }
  /** Nothing to do: the Pod is admitted as it came. */
  | { readonly skipped: string }
  /** The Pod is refused, with this message (Kuma: the webhook errors and the API server refuses the Pod). */
  | { readonly refused: string };

const own = (m: Record<string, string> | undefined, key: string): string | undefined => (m && Object.hasOwn(m, key) ? m[key] : undefined);

/** metadata.Annotations.GetEnabled: `enabled|true|yes` and `disabled|false|no`; anything else is an error. */
function enabledValue(value: string | undefined, what: string): boolean | undefined | Error {
  if (value === undefined) return undefined;
  if (value === 'enabled' || value === 'true' || value === 'yes') return true;
  if (value === 'disabled' || value === 'false' || value === 'no') return false;
  return new Error(`${what}: "${value}" is not one of enabled, true, yes, disabled, false, no`);
}

/** Whether the Pod is to get a sidecar: exceptions, an existing sidecar, then the Pod's label, then its Namespace's. */
function needToInject(pod: V1Pod, ns: V1Namespace | undefined, config: InjectorConfig): { inject: boolean; why: string } | Error {
  const meta = pod.metadata ?? {};
  const ident = `Pod ${meta.namespace ?? 'default'}/${meta.name ?? meta.generateName ?? ''}`;
  for (const [key, value] of Object.entries(config.exceptionLabels)) {
    const v = own(meta.labels, key);
    if (v !== undefined && (value === '*' || value === v)) return { inject: false, why: `${ident} has the exception label ${key}` };
  }
  if ([...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === SIDECAR_CONTAINER)) return { inject: false, why: `${ident} already has a ${SIDECAR_CONTAINER} container` };
  const onPod = enabledValue(own(meta.labels, SIDECAR_INJECTION), `label ${SIDECAR_INJECTION} of ${ident}`);
  if (onPod instanceof Error) return onPod;
  if (onPod !== undefined) return { inject: onPod, why: `${ident} has the label ${SIDECAR_INJECTION}: ${own(meta.labels, SIDECAR_INJECTION)}` };
  const onNs = enabledValue(own(ns?.metadata?.labels, SIDECAR_INJECTION), `label ${SIDECAR_INJECTION} of Namespace ${ns?.metadata?.name ?? ''}`);
  if (onNs instanceof Error) return onNs;
  if (onNs !== undefined) return { inject: onNs, why: `Namespace ${ns?.metadata?.name} has the label ${SIDECAR_INJECTION}: ${own(ns?.metadata?.labels, SIDECAR_INJECTION)}` };
  return { inject: false, why: `neither ${ident} nor its Namespace has the label ${SIDECAR_INJECTION}` };
}

export function injectPod(input: InjectionInput, config: InjectorConfig): Injection {
  const original = input.pod;
  const meta0 = original.metadata ?? {};
  const warnings: string[] = [];
  if (own(meta0.annotations, SIDECAR_INJECTION) !== undefined) warnings.push(`${SIDECAR_INJECTION} is read as a label; as an annotation it is ignored`);
  const decision = needToInject(original, input.namespace, config);
  if (decision instanceof Error) return { refused: decision.message };
  if (!decision.inject) return { skipped: decision.why };

  const mesh = meshOf(original, input.namespace);
  if (!input.meshExists(mesh)) return { refused: `mesh "${mesh}" does not exist: create the Mesh before Pods that join it` };
  const sameUid = (original.spec?.containers ?? []).filter((c) => c.securityContext?.runAsUser === config.uid).map((c) => c.name);
  if (sameUid.length > 0) return { refused: `containers using same UID as sidecar is unsupported: ${JSON.stringify(sameUid)} run as ${config.uid}, the sidecar's UID` };
  for (const c of original.spec?.initContainers ?? []) {
    if (c.securityContext?.runAsUser === config.uid) warnings.push(`init container ${c.name} runs as the sidecar's UID ${config.uid}: its traffic is not redirected`);
  }

  // From here on a copy: the input is never changed.
  const pod = structuredClone(original);
  const meta: V1ObjectMeta = (pod.metadata ??= {});
  const annotations: Record<string, string> = (meta.annotations ??= {});
  const labels: Record<string, string> = (meta.labels ??= {});
  const spec = (pod.spec ??= { containers: [] });
  const appContainers = spec.containers ?? [];
  if (appContainers.length === 1 && own(annotations, 'kubectl.kubernetes.io/default-container') === undefined) {
    annotations['kubectl.kubernetes.io/default-container'] = appContainers[0]!.name;
  }

  const adminPort = portAnnotation(annotations, 'kuma.io/envoy-admin-port') ?? config.adminPort;
  if (adminPort instanceof Error) return { refused: adminPort.message };
  const envOverrides = mapAnnotation(annotations, 'kuma.io/sidecar-env-vars');
  if (envOverrides instanceof Error) return { refused: envOverrides.message };
  const drain = own(annotations, 'kuma.io/sidecar-drain-time');
  if (drain !== undefined) {
    try {
      parseDuration(drain);
    } catch (err) {
      return { refused: `annotation kuma.io/sidecar-drain-time: ${(err as Error).message}` };
    }
  }
  const tokenMount = tokenVolumeMount(spec, annotations);
  if (tokenMount instanceof Error) return { refused: tokenMount.message };
  const proxyless = own(labels, PROXYLESS_LABEL) === 'true';

  annotations[SIDECAR_INJECTED] = 'true';
  annotations['kuma.io/sidecar-uid'] = String(config.uid);
  annotations['kuma.io/envoy-admin-port'] = String(adminPort);
  annotations['kuma.io/mesh'] = mesh;
  labels['kuma.io/mesh'] = mesh;
  const volumes: V1Volume[] = (spec.volumes ??= []);

  const env = sidecarEnv(mesh, annotations, config, envOverrides);
  const mounts: V1VolumeMount[] = [{ name: 'kuma-sidecar-tmp', mountPath: '/tmp' }, ...(tokenMount ? [tokenMount] : [])];
  if (proxyless) {
    volumes.push(emptyDir('kuma-sidecar-tmp'), emptyDir(GRPC_BOOTSTRAP_VOLUME));
    const bootstrap = `${GRPC_BOOTSTRAP_DIR}/bootstrap.json`;
    const agent: V1Container = {
      name: SIDECAR_CONTAINER,
      image: config.sidecarImage,
      imagePullPolicy: 'IfNotPresent',
      args: ['run', '--log-level=info', '--proxyless', `--grpc-bootstrap-file=${bootstrap}`],
      env,
      // A native sidecar: it starts, and has written the bootstrap, before the application does.
      restartPolicy: 'Always',
      startupProbe: { exec: { command: ['test', '-s', bootstrap] }, periodSeconds: 1, failureThreshold: 120 },
      securityContext: securityContext(config),
      resources: resources(config),
      volumeMounts: [...mounts, { name: GRPC_BOOTSTRAP_VOLUME, mountPath: GRPC_BOOTSTRAP_DIR }],
    };
    for (const c of appContainers) {
      c.env = [...(c.env ?? []).filter((e) => e.name !== 'GRPC_XDS_BOOTSTRAP'), { name: 'GRPC_XDS_BOOTSTRAP', value: bootstrap }];
      c.volumeMounts = [...(c.volumeMounts ?? []), { name: GRPC_BOOTSTRAP_VOLUME, mountPath: GRPC_BOOTSTRAP_DIR, readOnly: true }];
    }
    spec.initContainers = [agent, ...(spec.initContainers ?? [])];
    return { pod, mesh, warnings };
  }

  // The legacy path (no transparent proxy ConfigMap): redirection through annotations.
  for (const key of ['kuma.io/transparent-proxying-inbound-port', 'kuma.io/transparent-proxying-outbound-port']) {
    const wanted = own(annotations, key);
    const global = key.endsWith('inbound-port') ? config.redirectPortInbound : config.redirectPortOutbound;
    if (wanted !== undefined && wanted !== String(global)) warnings.push(`cannot change the value of annotation ${key} on a per pod basis: the global setting ${global} is used`);
  }
  if (own(annotations, 'kuma.io/transparent-proxying') === 'disabled' || own(annotations, 'kuma.io/transparent-proxying') === 'false') {
    warnings.push('cannot change the value of annotation kuma.io/transparent-proxying: the transparent proxy must be enabled on Kubernetes');
  }
  annotations['kuma.io/transparent-proxying'] = 'enabled';
  annotations['kuma.io/transparent-proxying-inbound-port'] = String(config.redirectPortInbound);
  annotations['kuma.io/transparent-proxying-outbound-port'] = String(config.redirectPortOutbound);
  const family = own(annotations, 'kuma.io/transparent-proxying-ip-family-mode');
  if (family !== undefined && family !== 'dualstack' && family !== 'ipv4') return { refused: `annotation kuma.io/transparent-proxying-ip-family-mode: "${family}" is neither dualstack nor ipv4` };
  annotations['kuma.io/transparent-proxying-ip-family-mode'] = family ?? 'dualstack';
  if (config.cniEnabled) annotations['k8s.v1.cni.cncf.io/networks'] = 'kuma-cni';
  const redirect = redirectArgs(annotations, config);
  if (redirect instanceof Error) return { refused: redirect.message };

  volumes.push(emptyDir('kuma-init-tmp'), emptyDir('kuma-sidecar-tmp'));
  const sidecar: V1Container = {
    name: SIDECAR_CONTAINER,
    image: config.sidecarImage,
    imagePullPolicy: 'IfNotPresent',
    args: ['run', '--log-level=info'],
    env,
    livenessProbe: probe(config.livenessProbe, adminPort, true),
    readinessProbe: probe(config.readinessProbe, adminPort, false),
    securityContext: securityContext(config),
    resources: resources(config),
    volumeMounts: mounts,
  };
  const init = config.cniEnabled ? validationContainer(annotations, config) : initContainer(redirect, config);
  spec.containers = [sidecar, ...appContainers];
  // kuma-init runs after the Pod's own init containers unless `kuma.io/init-first` says otherwise.
  const initFirst = enabledValue(own(annotations, 'kuma.io/init-first'), 'annotation kuma.io/init-first');
  if (initFirst instanceof Error) return { refused: initFirst.message };
  spec.initContainers = initFirst ? [init, ...(spec.initContainers ?? [])] : [...(spec.initContainers ?? []), init];
  return { pod, mesh, warnings };
}

/** factory.go sidecarEnvVars: Kuma's variables, then the configured ones, then the Pod's `kuma.io/sidecar-env-vars`, sorted by name. */
function sidecarEnv(mesh: string, annotations: Record<string, string>, config: InjectorConfig, overrides: Record<string, string>): V1EnvVar[] {
  const field = (fieldPath: string): V1EnvVar['valueFrom'] => ({ fieldRef: { apiVersion: 'v1', fieldPath } });
  const vars = new Map<string, V1EnvVar>([
    ['POD_NAME', { name: 'POD_NAME', valueFrom: field('metadata.name') }],
    ['POD_NAMESPACE', { name: 'POD_NAMESPACE', valueFrom: field('metadata.namespace') }],
    ['INSTANCE_IP', { name: 'INSTANCE_IP', valueFrom: field('status.podIP') }],
    ['KUMA_CONTROL_PLANE_URL', { name: 'KUMA_CONTROL_PLANE_URL', value: config.controlPlaneUrl }],
    ['KUMA_DATAPLANE_MESH', { name: 'KUMA_DATAPLANE_MESH', value: mesh }],
    ['KUMA_DATAPLANE_DRAIN_TIME', { name: 'KUMA_DATAPLANE_DRAIN_TIME', value: own(annotations, 'kuma.io/sidecar-drain-time') ?? config.drainTime }],
    ['KUMA_DATAPLANE_RUNTIME_TOKEN_PATH', { name: 'KUMA_DATAPLANE_RUNTIME_TOKEN_PATH', value: `${SERVICE_ACCOUNT_TOKEN_PATH}/token` }],
    ['KUMA_CONTROL_PLANE_CA_CERT', { name: 'KUMA_CONTROL_PLANE_CA_CERT', value: config.controlPlaneCaCert }],
    // This kuma-dp has no DNS proxy: Kuma's builtin DNS is off.
    ['KUMA_DNS_ENABLED', { name: 'KUMA_DNS_ENABLED', value: 'false' }],
  ]);
  const logLevel = own(annotations, 'kuma.io/envoy-log-level');
  if (logLevel !== undefined) vars.set('KUMA_DATAPLANE_RUNTIME_ENVOY_LOG_LEVEL', { name: 'KUMA_DATAPLANE_RUNTIME_ENVOY_LOG_LEVEL', value: logLevel });
  for (const [name, value] of [...Object.entries(config.envVars), ...Object.entries(overrides)]) vars.set(name, { name, value });
  return [...vars.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * podRedirect.AsKumactlCommandLine (2.14): `--flag=value` for what differs from kuma-init's
 * defaults (uid 5678, dualstack, 15001, 15006) and for each exclusion, then `--verbose`.
 */
function redirectArgs(annotations: Record<string, string>, config: InjectorConfig): string[] | Error {
  const args: string[] = [];
  const flag = (name: string, value: string | number, unless?: string | number) => {
    if (value !== '' && value !== unless) args.push(`--${name}=${value}`);
  };
  const exclusions: Record<string, string> = {};
  for (const [key, kind] of [
    ['traffic.kuma.io/exclude-outbound-ports', 'ports'],
    ['traffic.kuma.io/exclude-outbound-ips', 'ips'],
    ['traffic.kuma.io/exclude-inbound-ports', 'ports'],
    ['traffic.kuma.io/exclude-inbound-ips', 'ips'],
  ] as const) {
    const items = (own(annotations, key) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = items.find((s) => (kind === 'ports' ? !/^\d+(-\d+)?$/.test(s) || s.split('-').some((p) => Number(p) < 1 || Number(p) > 65535) : !/^[0-9a-fA-F:.]+(\/\d+)?$/.test(s)));
    if (bad !== undefined) return new Error(`annotation ${key}: "${bad}" is not ${kind === 'ports' ? 'a port or port range' : 'an IP address or CIDR'}`);
    exclusions[key] = items.join(',');
  }
  flag('kuma-dp-user', config.uid, 5678);
  flag('ip-family-mode', annotations['kuma.io/transparent-proxying-ip-family-mode'] ?? 'dualstack', 'dualstack');
  flag('redirect-outbound-port', config.redirectPortOutbound, 15001);
  flag('exclude-outbound-ports', exclusions['traffic.kuma.io/exclude-outbound-ports']!);
  flag('exclude-outbound-ips', exclusions['traffic.kuma.io/exclude-outbound-ips']!);
  flag('redirect-inbound-port', config.redirectPortInbound, 15006);
  flag('exclude-inbound-ports', exclusions['traffic.kuma.io/exclude-inbound-ports']!);
  flag('exclude-inbound-ips', exclusions['traffic.kuma.io/exclude-inbound-ips']!);
  args.push('--verbose');
  return args;
}

function initContainer(args: string[], config: InjectorConfig): V1Container {
  return {
    name: INIT_CONTAINER,
    image: config.initImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['/usr/bin/kumactl', 'install', 'transparent-proxy'],
    args,
    env: [{ name: 'XTABLES_LOCKFILE', value: '/tmp/xtables.lock' }],
    securityContext: { runAsUser: 0, runAsGroup: 0, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] }, readOnlyRootFilesystem: true },
    resources: { limits: { cpu: '100m', memory: '50M' }, requests: { cpu: '20m', memory: '20M' } },
    volumeMounts: [{ name: 'kuma-init-tmp', mountPath: '/tmp' }],
  };
}

function validationContainer(annotations: Record<string, string>, config: InjectorConfig): V1Container {
  return {
    name: VALIDATION_CONTAINER,
    image: config.initImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['/usr/bin/kumactl', 'install', 'transparent-proxy-validator'],
    args: ['--config-file=/tmp/.kumactl', `--ip-family-mode=${annotations['kuma.io/transparent-proxying-ip-family-mode'] ?? 'dualstack'}`, `--validation-server-port=${config.redirectPortInbound}`],
    securityContext: { runAsUser: config.uid, runAsGroup: config.gid, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    resources: { limits: { cpu: '100m', memory: '50M' }, requests: { cpu: '20m', memory: '20M' } },
    volumeMounts: [{ name: 'kuma-sidecar-tmp', mountPath: '/tmp' }],
  };
}

function probe(p: ProbeConfig, port: number, liveness: boolean): V1Container['livenessProbe'] {
  return {
    httpGet: { path: '/ready', port },
    initialDelaySeconds: p.initialDelaySeconds,
    timeoutSeconds: p.timeoutSeconds,
    periodSeconds: p.periodSeconds,
    successThreshold: liveness ? 1 : p.successThreshold,
    failureThreshold: p.failureThreshold,
  };
}

function securityContext(config: InjectorConfig): V1Container['securityContext'] {
  return { runAsUser: config.uid, runAsGroup: config.gid, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };
}

function resources(config: InjectorConfig): V1Container['resources'] {
  return {
    requests: { cpu: config.resources.requests.cpu, memory: config.resources.requests.memory, 'ephemeral-storage': '50M' },
    limits: { cpu: config.resources.limits.cpu, memory: config.resources.limits.memory, 'ephemeral-storage': '1G' },
  };
}

function emptyDir(name: string): V1Volume {
  return { name, emptyDir: { sizeLimit: '10M' } };
}

/** The service account token the sidecar presents: `kuma.io/service-account-token-volume`, else what an application container mounts. */
function tokenVolumeMount(spec: NonNullable<V1Pod['spec']>, annotations: Record<string, string>): V1VolumeMount | undefined | Error {
  const named = own(annotations, 'kuma.io/service-account-token-volume');
  if (named !== undefined) {
    if (!(spec.volumes ?? []).some((v) => v.name === named)) return new Error(`volume (${named}) specified for kuma.io/service-account-token-volume but volume does not exist in pod spec`);
    return { name: named, mountPath: SERVICE_ACCOUNT_TOKEN_PATH, readOnly: true };
  }
  for (const c of spec.containers ?? []) for (const m of c.volumeMounts ?? []) if (m.mountPath === SERVICE_ACCOUNT_TOKEN_PATH) return { ...m };
  return undefined;
}

function portAnnotation(annotations: Record<string, string>, key: string): number | undefined | Error {
  const raw = own(annotations, key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= 1 && n <= 65535 ? n : new Error(`annotation ${key}: "${raw}" is not a port`);
}

/** metadata.Annotations.GetMap: `KEY=value;KEY2=value2`. */
function mapAnnotation(annotations: Record<string, string>, key: string): Record<string, string> | Error {
  const raw = own(annotations, key);
  const out: Record<string, string> = {};
  if (raw === undefined || raw.trim() === '') return out;
  for (const pair of raw.split(';')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) return new Error(`annotation ${key}: "${pair}" is not KEY=value`);
    const name = pair.slice(0, at).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return new Error(`annotation ${key}: "${name}" is not an environment variable name`);
    Object.defineProperty(out, name, { value: pair.slice(at + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
