import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { INJECTOR_PATH, VALIDATOR_PATH } from './admission.ts';
import { generateCa, serviceCertificate, TEN_YEARS_MS } from './webhook-tls.ts';

/**
 * What `kumactl install control-plane` prints, as Kuma's command does: the `kuma-system`
 * namespace, the CRDs, the control plane's ServiceAccount and RBAC, its Deployment and Service in
 * Kubernetes mode, and the webhook configurations with the CA bundle of a certificate generated
 * here (kept in the `kuma-tls-cert` Secret that the Deployment mounts as the admission server's
 * certDir). `kumactl install crds` prints the CRDs alone. The Helm chart under
 * deploy/kubernetes/chart renders the same objects (generated from this, by
 * deploy/kubernetes/generate.ts), except that its control plane makes its own certificate.
 */

export const MUTATING_WEBHOOK_CONFIGURATION = 'kuma-admission-mutating-webhook-configuration';
export const VALIDATING_WEBHOOK_CONFIGURATION = 'kuma-validating-webhook-configuration';
const CERT_DIR = '/var/run/secrets/kuma.io/tls-cert';
const INJECTION = 'kuma.io/sidecar-injection';
const YES = ['enabled', 'true', 'yes'];
const NO = ['disabled', 'false', 'no'];

export interface InstallOptions {
  readonly namespace: string;
  readonly controlPlaneImage: string;
  readonly dataplaneImage: string;
  readonly initImage: string;
  /**
   * The admission server's certificate (PEM), generated here when absent, kept in a Secret the
   * Deployment mounts. `control-plane`: none; the control plane generates and rotates its own and
   * writes its CA into the webhook configurations (what the Helm chart does).
   */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string } | 'control-plane';
  /** Whether to print the Namespace and CRDs (the Helm chart has its CRDs in crds/ and its namespace from the release). */
  readonly withNamespaceAndCrds?: boolean;
}

/** The directory of the committed CRDs (found upwards from here, so it works from dist/ too). */
export function crdDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'deploy', 'kubernetes', 'crds');
    if (existsSync(join(candidate, 'kuma.io_meshes.yaml'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`deploy/kubernetes/crds not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Every CRD, parsed, in file order. */
export function crds(): Record<string, unknown>[] {
  const dir = crdDirectory();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown>));
}

/** A CA and a serving certificate for the control plane's Service, valid 10 years (rotate by installing again, or mount your own). */
export async function generateWebhookTls(service: string, namespace: string): Promise<{ cert: string; key: string; ca: string }> {
  const ca = await generateCa('kuma-admission-ca');
  const leaf = await serviceCertificate(ca, service, namespace, new Date(Date.now() + TEN_YEARS_MS));
  return { cert: leaf.cert, key: leaf.key, ca: ca.cert };
}

/** The objects of the control plane in Kubernetes mode, in the order they are to be applied. */
export async function controlPlaneManifests(opts: InstallOptions): Promise<Record<string, unknown>[]> {
  const ns = opts.namespace;
  const name = 'kuma-control-plane';
  const tls = opts.tls === 'control-plane' ? undefined : (opts.tls ?? (await generateWebhookTls(name, ns)));
  const caBundle = tls ? Buffer.from(tls.ca).toString('base64') : undefined;
  const labels = { 'app.kubernetes.io/name': 'kuma', 'app.kubernetes.io/component': 'control-plane' };
  const service = { name, namespace: ns, path: '', port: 443 };
  const podCreates = [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }];
  const notSystem = { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [ns, 'kube-system'] };
  const webhook = (hookName: string, path: string, rules: unknown[], extra: Record<string, unknown> = {}) => ({
    name: hookName,
    admissionReviewVersions: ['v1'],
    clientConfig: { ...(caBundle ? { caBundle } : {}), service: { ...service, path } },
    failurePolicy: 'Fail',
    sideEffects: 'None',
    timeoutSeconds: 10,
    rules,
    ...extra,
  });
  const withNamespaceAndCrds = opts.withNamespaceAndCrds ?? true;
  return [
    ...(withNamespaceAndCrds ? [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kuma.io/system-namespace': 'true' } } }, ...crds()] : []),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      rules: [
        // What the log source, the Pod controller and the injector read.
        { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['replicasets', 'deployments'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list', 'watch'] },
        // Warning Events on Pods (a missing Mesh, what the converter only reports).
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        // The kuma.io resources: followed, and the Dataplanes and default Mesh written.
        { apiGroups: ['kuma.io'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        // Service account tokens of proxies (dpServer.authn.dpProxy.type serviceAccountToken).
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        // Keeping the webhooks' caBundle current when the control plane generates its certificate.
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], verbs: ['get', 'update'], resourceNames: [MUTATING_WEBHOOK_CONFIGURATION, VALIDATING_WEBHOOK_CONFIGURATION] },
      ],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: ns }] },
    // Kuma's Secrets (and the CAs it makes) live in the system namespace only: Secrets are granted there, not cluster-wide.
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: ns, labels },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
        // Leader election (the replica that writes Dataplanes, defaults and Meshes).
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: ns, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: ns }] },
    ...(tls ? [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kuma-tls-cert', namespace: ns, labels }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(tls.cert), 'tls.key': b64(tls.key), 'ca.crt': b64(tls.ca) } }] : []),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, labels },
      spec: {
        selector: labels,
        ports: [
          { name: 'http-api-server', port: 5681, targetPort: 5681 },
          { name: 'https-api-server', port: 5682, targetPort: 5682 },
          { name: 'dp-server', port: 5678, targetPort: 5678 },
          { name: 'https-admission-server', port: 443, targetPort: 5443 },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, labels },
      spec: {
        // Replicas elect a leader (it alone writes to the cluster) and each keeps its own log. One
        // here: a chart-generated webhook certificate is per replica (give certDir to run more).
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
            containers: [
              {
                name: 'control-plane',
                image: opts.controlPlaneImage,
                args: ['run'],
                env: [
                  { name: 'KUMA_STORE_TYPE', value: 'kubernetes' },
                  { name: 'KUMA_STORE_KUBERNETES_SYSTEM_NAMESPACE', value: ns },
                  { name: 'KUMA_STORE_EMBEDDED_DATA_DIR', value: '/var/lib/kuma-cp/data' },
                  { name: 'KUMA_GENERAL_WORK_DIR', value: '/var/lib/kuma-cp/work' },
                  { name: 'KUMA_RUNTIME_KUBERNETES_CONTROL_PLANE_SERVICE_NAME', value: name },
                  { name: 'KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_PORT', value: '5443' },
                  // One certificate for the webhooks and the data plane server, its CA what kuma-dp trusts: a
                  // restarted control plane serves the same, so running sidecars reconnect.
                  ...(tls
                    ? [
                        { name: 'KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_CERT_DIR', value: CERT_DIR },
                        { name: 'KUMA_GENERAL_TLS_CERT_FILE', value: `${CERT_DIR}/tls.crt` },
                        { name: 'KUMA_GENERAL_TLS_KEY_FILE', value: `${CERT_DIR}/tls.key` },
                        { name: 'KUMA_RUNTIME_KUBERNETES_INJECTOR_CA_CERT_FILE', value: `${CERT_DIR}/ca.crt` },
                      ]
                    : []),
                  { name: 'KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_IMAGE', value: opts.dataplaneImage },
                  { name: 'KUMA_RUNTIME_KUBERNETES_INJECTOR_INIT_CONTAINER_IMAGE', value: opts.initImage },
                  { name: 'KUMA_API_SERVER_HTTP_INTERFACE', value: '127.0.0.1' },
                ],
                ports: [
                  { name: 'diagnostics', containerPort: 5680 },
                  { name: 'https-api', containerPort: 5682 },
                  { name: 'dp-server', containerPort: 5678 },
                  { name: 'admission', containerPort: 5443 },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 'diagnostics' }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/ready', port: 'diagnostics' }, initialDelaySeconds: 60, periodSeconds: 10 },
                resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '2Gi' } },
                volumeMounts: [...(tls ? [{ name: 'tls-cert', mountPath: CERT_DIR, readOnly: true }] : []), { name: 'state', mountPath: '/var/lib/kuma-cp' }],
              },
            ],
            volumes: [
              ...(tls ? [{ name: 'tls-cert', secret: { secretName: 'kuma-tls-cert' } }] : []),
              // The log is kept beside the process (store.type kubernetes): a restart relists and reconciles it with the cluster.
              { name: 'state', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: MUTATING_WEBHOOK_CONFIGURATION, labels },
      // Only Pods that ask for a sidecar reach the injector (so a control plane that is down stops
      // only those): in a labelled namespace unless the Pod opts out, or labelled themselves. The
      // injector decides the rest as Kuma does. The system namespace and kube-system never.
      webhooks: [
        webhook('kuma-injector.kuma.io', INJECTOR_PATH, podCreates, {
          namespaceSelector: { matchExpressions: [{ key: INJECTION, operator: 'In', values: YES }, notSystem] },
          objectSelector: { matchExpressions: [{ key: INJECTION, operator: 'NotIn', values: NO }] },
        }),
        webhook('kuma-injector-pods.kuma.io', INJECTOR_PATH, podCreates, {
          namespaceSelector: { matchExpressions: [{ key: INJECTION, operator: 'NotIn', values: YES }, notSystem] },
          objectSelector: { matchExpressions: [{ key: INJECTION, operator: 'In', values: YES }] },
        }),
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: VALIDATING_WEBHOOK_CONFIGURATION, labels },
      webhooks: [webhook('validator.kuma-admission.kuma.io', VALIDATOR_PATH, [{ apiGroups: ['kuma.io'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: ['*'] }])],
    },
  ];
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
