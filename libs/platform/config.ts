import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeYaml } from '../resources/decode.ts';
import { isObject, type JsonObject } from '../resources/validation.ts';
import { parseDuration } from './duration.ts';
import { isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS, type LogFormat } from './log-options.ts';

export const STORE_TYPES = ['memory', 'embedded', 'nats', 'postgres', 'kubernetes'] as const;
export type StoreType = (typeof STORE_TYPES)[number];
export const ROLES = ['api', 'projector', 'gateway'] as const;
/** Kuma's store.postgres.tls.mode values. */
export const FABRIC_TYPES = ['none', 'memory', 'nats'] as const;
/** The fabric `kuma-cp` runs with: fabric.type, or its default for the store (nats with the nats store, else none). */
export const fabricTypeOf = (c: KumaCpConfig): (typeof FABRIC_TYPES)[number] =>
  c.fabric.type === '' ? (c.store.type === 'nats' ? 'nats' : 'none') : (c.fabric.type as (typeof FABRIC_TYPES)[number]);
export const PG_TLS_MODES = ['disable', 'verifyNone', 'verifyCa', 'verifyFull'] as const;
export type Role = (typeof ROLES)[number];

/** kuma-cp configuration. Key names follow Kuma's kuma-cp.defaults.yaml where Kuma has the concept. */
export interface KumaCpConfig {
  readonly environment: 'universal';
  readonly apiServer: {
    readonly http: {
      readonly enabled: boolean;
      readonly interface: string;
      readonly port: number;
      /**
       * Binding beyond loopback without user authentication is refused at start-up unless
       * this is true (then it is logged as a warning): anyone who reaches the port owns the mesh.
       */
      readonly allowUnauthenticatedNonLoopback: boolean;
      /** Comma-separated host names (besides loopback and the bound interface) that reach the API, for the Host check. */
      readonly allowedHosts: string;
    };
    /**
     * The same API over TLS (Kuma's 5682). Its certificate: `tlsCertFile`/`tlsKeyFile`, else the
     * general one (`general.tlsCertFile`, else generated). Needs user authentication to bind beyond loopback.
     */
    readonly https: { readonly enabled: boolean; readonly interface: string; readonly port: number; readonly tlsCertFile: string; readonly tlsKeyFile: string };
    /**
     * User authentication: `tokens` (Kuma's user tokens; the default) or `none` (loopback only).
     * `localhostIsAdmin`: a request from localhost without a token is the admin, as Kuma.
     */
    readonly authn: { readonly type: 'tokens' | 'none'; readonly localhostIsAdmin: boolean };
    /** Largest accepted request body, in bytes (413 above). */
    readonly bodyLimit: number;
    readonly readOnly: boolean;
  };
  readonly access: {
    /** `static` (Kuma's) or `rbac` (Kong Mesh's AccessRole and AccessRoleBinding). */
    readonly type: string;
    /** Kuma's static access control: comma-separated users and groups per right. */
    readonly static: {
      readonly adminResources: { readonly users: string; readonly groups: string };
      readonly generateDpToken: { readonly users: string; readonly groups: string };
      readonly generateUserToken: { readonly users: string; readonly groups: string };
    };
  };
  readonly dpServer: {
    readonly port: number;
    /** ADS without TLS on 127.0.0.1; 0 = off. */
    readonly plaintextPort: number;
    /**
     * How a proxy proves who it is: `dpToken` (a dataplane token this control plane signed),
     * `serviceAccountToken` (its Pod's Kubernetes service account token, checked with a
     * TokenReview against the Pod's Dataplane), `none` (loopback only); '' picks
     * serviceAccountToken with store.type kubernetes and dpToken otherwise, as Kuma.
     */
    readonly authn: { readonly dpProxy: { readonly type: '' | 'dpToken' | 'serviceAccountToken' | 'none' } };
    /** Kuma's: time for a TLS handshake and for the headers of an HTTP/1.1 request (`POST /bootstrap`). */
    readonly readHeaderTimeout: string;
    /**
     * A connection to the TLS port that has not authenticated (an ADS stream or a bootstrap)
     * within this is closed, as is any ADS stream whose first request has not arrived; it also
     * bounds a whole bootstrap request.
     */
    readonly authenticationTimeout: string;
    /** Connections to the TLS port from one address that may be unauthenticated at once (more are refused). */
    readonly maxUnauthenticatedConnectionsPerSource: number;
    /** Distinct services one ADS stream may ask for by name (proxyless `xds:///<service>`); names beyond are not served. */
    readonly maxByNameServicesPerStream: number;
    /** Distinct services a gateway follows by name for all its streams; a name beyond is not served. */
    readonly maxByNameServicesPerGateway: number;
  };
  readonly diagnostics: { readonly serverPort: number; readonly interface: string };
  readonly store: {
    readonly type: StoreType;
    /** Allow deleting a Mesh that still has Dataplanes (Kuma's store.unsafeDelete). */
    readonly unsafeDelete: boolean;
    readonly embedded: { readonly dataDir: string };
    /**
     * `store.type: kubernetes`: the kuma.io custom resources of the cluster (KUBECONFIG, else the
     * in-cluster service account) are the source of truth; the log they feed is kept in the
     * embedded store (`embedded.dataDir`), or with `log: nats` in JetStream (the `nats.*` settings),
     * one log that every replica shares. `systemNamespace` holds the control plane's own objects.
     */
    readonly kubernetes: { readonly systemNamespace: string; readonly log: 'embedded' | 'nats' };
    /**
     * Envelope encryption of secrets in the log and checkpoints. `keyFile`: the key-encryption
     * keyring (one base64 key per line, the first seals new writes). '' = `<general.workDir>/store-encryption.key`,
     * generated (0600) on first start for the memory and embedded stores; the nats store needs it set.
     */
    readonly encryption: { readonly keyFile: string };
    readonly nats: {
      readonly url: string;
      readonly stream: string;
      readonly replicas: number;
      /** Retention limit of the event stream: events older than this are removed ('0': keep forever, the default). */
      readonly maxAge: string;
      /** How often a projector collects xDS content nothing refers to ('0': never). */
      readonly contentGcInterval: string;
      /** Unreferenced content younger than this is kept (it may be about to be referred to). */
      readonly contentGcGrace: string;
    };
    /** Projection checkpoints (see README, "Checkpoints and retention"). */
    readonly checkpoints: {
      /** Save a checkpoint every this many events; 0 disables checkpoints. */
      readonly interval: number;
      /** Keep this many of the newest checkpoints. */
      readonly keep: number;
      /** Of older checkpoints, keep the first of every this many events (0: none). */
      readonly archiveEvery: number;
    };
    /** Kuma's store.postgres settings (seconds and durations as Kuma's), plus `maxAge`. */
    readonly postgres: {
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly password: string;
      readonly dbName: string;
      /** Seconds to wait for a connection. */
      readonly connectionTimeout: number;
      readonly maxOpenConnections: number;
      readonly minOpenConnections: number;
      readonly maxConnectionIdleTime: string;
      readonly maxConnectionLifetime: string;
      readonly tls: { readonly mode: string; readonly certPath: string; readonly keyPath: string; readonly caPath: string; readonly disableSSLSNI: boolean };
      /** Start even when the database's schema is newer than this kuma-cp's. */
      readonly tolerateNewerDbVersions: boolean;
      /** Reads of ranges the replica already holds go there, `ratio` percent of them. */
      readonly readReplica: { readonly host: string; readonly port: number; readonly ratio: number };
      /** Retention of the event log, as store.nats.maxAge ('0': keep forever, the default). */
      readonly maxAge: string;
    };
  };
  readonly general: {
    /** Where kuma-cp keeps generated files (the dp-server certificate). */
    readonly workDir: string;
    /** Certificate of the data plane server; generated (self-signed) when unset. */
    readonly tlsCertFile: string;
    readonly tlsKeyFile: string;
  };
  readonly xdsServer: {
    /** How long after its proxy disconnects a registered Dataplane is removed (Kuma's default 10s). */
    readonly dataplaneDeregistrationDelay: string;
    /** Changes within this window are coalesced into one push. */
    readonly debounce: string;
    /**
     * How often a gateway publishes proxies' counters (responses sent, ACKs) to the status
     * bucket (Kuma's default 10s). Opened and closed streams and NACKs go out within 500 ms.
     */
    readonly dataplaneStatusFlushInterval: string;
  };
  /**
   * How the projector and gateway roles share content, manifests, membership and status:
   * `none` (one process runs both; the projector hands snapshots to the gateway directly),
   * `memory` (one process, the roles talking through the in-memory fabric exactly as they do
   * over NATS: the seam, tested) or `nats` (any split over processes). '' picks nats with
   * store.type nats and none otherwise. The NATS fabric's buckets are named after
   * store.nats.stream and replicated store.nats.replicas times; `nats.url` '' is store.nats.url.
   */
  readonly fabric: { readonly type: string; readonly nats: { readonly url: string } };
  readonly multizone: { readonly zone: { readonly name: string } };
  /** Kubernetes mode (store.type kubernetes): Kuma's `runtime.kubernetes` settings. */
  readonly runtime: {
    readonly kubernetes: {
      /** The HTTPS server of the admission webhooks (injector, validation); certDir '' = generated and rotated by the control plane. */
      readonly admissionServer: { readonly address: string; readonly port: number; readonly certDir: string };
      /** The Service the control plane is reached through (the webhooks' and the data plane server's certificate names, kuma-dp's URL). */
      readonly controlPlaneServiceName: string;
      /**
       * The control plane's own user on the API server: with Kubernetes' garbage collector, the only
       * ones the validating webhook lets write Dataplanes. '' = `system:serviceaccount:<system namespace>:kuma-control-plane`.
       */
      readonly serviceAccountName: string;
      readonly injector: {
        readonly sidecarContainer: {
          readonly image: string;
          readonly uid: number;
          readonly gid: number;
          readonly redirectPortInbound: number;
          readonly redirectPortOutbound: number;
          readonly adminPort: number;
          readonly drainTime: string;
        };
        readonly initContainer: { readonly image: string };
        readonly cniEnabled: boolean;
        /** The CA kuma-dp trusts the data plane server with; '' = the data plane server's own certificate. */
        readonly caCertFile: string;
      };
    };
  };
  readonly experimental: {
    /**
     * Kuma's automatic reachable services: with a mesh's mTLS on, a transparent proxy gets
     * outbounds only to the services its MeshTrafficPermissions may let it call.
     */
    readonly autoReachableServices: boolean;
  };
  readonly defaults: { readonly skipMeshCreation: boolean };
  readonly logLevel: string;
  /** `auto` (text on a terminal, JSON lines otherwise), `json` or `text`. */
  readonly logFormat: LogFormat;
}

export function defaultConfig(): KumaCpConfig {
  return {
    environment: 'universal',
    apiServer: {
      // Plain HTTP listens on loopback unless told otherwise; other hosts use HTTPS (5682) with a user token.
      http: { enabled: true, interface: '127.0.0.1', port: 5681, allowUnauthenticatedNonLoopback: false, allowedHosts: '' },
      https: { enabled: true, interface: '0.0.0.0', port: 5682, tlsCertFile: '', tlsKeyFile: '' },
      authn: { type: 'tokens', localhostIsAdmin: true },
      bodyLimit: 512 * 1024,
      readOnly: false,
    },
    access: {
      type: 'static',
      static: {
        adminResources: { users: '', groups: 'mesh-system:admin' },
        generateDpToken: { users: '', groups: 'mesh-system:admin' },
        generateUserToken: { users: '', groups: 'mesh-system:admin' },
      },
    },
    dpServer: {
      port: 5678,
      plaintextPort: 0,
      authn: { dpProxy: { type: '' } },
      readHeaderTimeout: '5s',
      authenticationTimeout: '15s',
      maxUnauthenticatedConnectionsPerSource: 32,
      maxByNameServicesPerStream: 256,
      maxByNameServicesPerGateway: 10_000,
    },
    diagnostics: { serverPort: 5680, interface: '127.0.0.1' },
    store: {
      type: 'embedded',
      unsafeDelete: false,
      embedded: { dataDir: join(homedir(), '.kuma-cp', 'data') },
      kubernetes: { systemNamespace: 'kuma-system', log: 'embedded' },
      encryption: { keyFile: '' },
      nats: { url: 'nats://127.0.0.1:4222', stream: 'KUMA_EVENTS', replicas: 1, maxAge: '0', contentGcInterval: '10m', contentGcGrace: '1h' },
      checkpoints: { interval: 10_000, keep: 3, archiveEvery: 100_000 },
      postgres: {
        host: '127.0.0.1',
        port: 15432,
        user: 'kuma',
        password: 'kuma',
        dbName: 'kuma',
        connectionTimeout: 5,
        maxOpenConnections: 50,
        minOpenConnections: 0,
        maxConnectionIdleTime: '30m',
        maxConnectionLifetime: '1h',
        tls: { mode: 'disable', certPath: '', keyPath: '', caPath: '', disableSSLSNI: false },
        tolerateNewerDbVersions: false,
        readReplica: { host: '', port: 5432, ratio: 100 },
        maxAge: '0',
      },
    },
    general: { workDir: join(homedir(), '.kuma-cp'), tlsCertFile: '', tlsKeyFile: '' },
    xdsServer: { dataplaneDeregistrationDelay: '10s', debounce: '20ms', dataplaneStatusFlushInterval: '10s' },
    fabric: { type: '', nats: { url: '' } },
    multizone: { zone: { name: 'default' } },
    runtime: {
      kubernetes: {
        admissionServer: { address: '', port: 5443, certDir: '' },
        controlPlaneServiceName: 'kuma-control-plane',
        serviceAccountName: '',
        injector: {
          sidecarContainer: { image: 'kuma-es/kuma-dp:latest', uid: 5678, gid: 5678, redirectPortInbound: 15006, redirectPortOutbound: 15001, adminPort: 9901, drainTime: '30s' },
          initContainer: { image: 'kuma/kuma-init:2.14.0' },
          cniEnabled: false,
          caCertFile: '',
        },
      },
    },
    experimental: { autoReachableServices: false },
    defaults: { skipMeshCreation: false },
    logLevel: 'info',
    logFormat: 'auto',
  };
}

/** Environment variables and the config path each sets. Explicit, as in Kuma (not derived). */
export const ENV_VARS: Readonly<Record<string, string>> = {
  KUMA_API_SERVER_HTTP_ENABLED: 'apiServer.http.enabled',
  KUMA_API_SERVER_HTTP_INTERFACE: 'apiServer.http.interface',
  KUMA_API_SERVER_HTTP_PORT: 'apiServer.http.port',
  KUMA_API_SERVER_HTTP_ALLOW_UNAUTHENTICATED_NON_LOOPBACK: 'apiServer.http.allowUnauthenticatedNonLoopback',
  KUMA_API_SERVER_HTTP_ALLOWED_HOSTS: 'apiServer.http.allowedHosts',
  KUMA_API_SERVER_HTTPS_ENABLED: 'apiServer.https.enabled',
  KUMA_API_SERVER_HTTPS_INTERFACE: 'apiServer.https.interface',
  KUMA_API_SERVER_HTTPS_PORT: 'apiServer.https.port',
  KUMA_API_SERVER_HTTPS_TLS_CERT_FILE: 'apiServer.https.tlsCertFile',
  KUMA_API_SERVER_HTTPS_TLS_KEY_FILE: 'apiServer.https.tlsKeyFile',
  KUMA_API_SERVER_AUTHN_TYPE: 'apiServer.authn.type',
  KUMA_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'apiServer.authn.localhostIsAdmin',
  KUMA_ACCESS_TYPE: 'access.type',
  KUMA_ACCESS_STATIC_ADMIN_RESOURCES_USERS: 'access.static.adminResources.users',
  KUMA_ACCESS_STATIC_ADMIN_RESOURCES_GROUPS: 'access.static.adminResources.groups',
  KUMA_ACCESS_STATIC_GENERATE_DP_TOKEN_USERS: 'access.static.generateDpToken.users',
  KUMA_ACCESS_STATIC_GENERATE_DP_TOKEN_GROUPS: 'access.static.generateDpToken.groups',
  KUMA_ACCESS_STATIC_GENERATE_USER_TOKEN_USERS: 'access.static.generateUserToken.users',
  KUMA_ACCESS_STATIC_GENERATE_USER_TOKEN_GROUPS: 'access.static.generateUserToken.groups',
  KUMA_API_SERVER_BODY_LIMIT: 'apiServer.bodyLimit',
  KUMA_API_SERVER_READ_ONLY: 'apiServer.readOnly',
  KUMA_DP_SERVER_PORT: 'dpServer.port',
  KUMA_DP_SERVER_PLAINTEXT_PORT: 'dpServer.plaintextPort',
  KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'dpServer.authn.dpProxy.type',
  KUMA_DP_SERVER_READ_HEADER_TIMEOUT: 'dpServer.readHeaderTimeout',
  KUMA_DP_SERVER_AUTHENTICATION_TIMEOUT: 'dpServer.authenticationTimeout',
  KUMA_DP_SERVER_MAX_UNAUTHENTICATED_CONNECTIONS_PER_SOURCE: 'dpServer.maxUnauthenticatedConnectionsPerSource',
  KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_STREAM: 'dpServer.maxByNameServicesPerStream',
  KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_GATEWAY: 'dpServer.maxByNameServicesPerGateway',
  KUMA_DIAGNOSTICS_SERVER_PORT: 'diagnostics.serverPort',
  KUMA_DIAGNOSTICS_SERVER_INTERFACE: 'diagnostics.interface',
  KUMA_STORE_TYPE: 'store.type',
  KUMA_STORE_KUBERNETES_SYSTEM_NAMESPACE: 'store.kubernetes.systemNamespace',
  KUMA_STORE_KUBERNETES_LOG: 'store.kubernetes.log',
  KUMA_STORE_UNSAFE_DELETE: 'store.unsafeDelete',
  KUMA_STORE_EMBEDDED_DATA_DIR: 'store.embedded.dataDir',
  KUMA_STORE_NATS_URL: 'store.nats.url',
  KUMA_STORE_NATS_STREAM: 'store.nats.stream',
  KUMA_STORE_NATS_REPLICAS: 'store.nats.replicas',
  KUMA_STORE_NATS_MAX_AGE: 'store.nats.maxAge',
  KUMA_STORE_NATS_CONTENT_GC_INTERVAL: 'store.nats.contentGcInterval',
  KUMA_STORE_NATS_CONTENT_GC_GRACE: 'store.nats.contentGcGrace',
  KUMA_STORE_ENCRYPTION_KEY_FILE: 'store.encryption.keyFile',
  KUMA_STORE_CHECKPOINTS_INTERVAL: 'store.checkpoints.interval',
  KUMA_STORE_CHECKPOINTS_KEEP: 'store.checkpoints.keep',
  KUMA_STORE_CHECKPOINTS_ARCHIVE_EVERY: 'store.checkpoints.archiveEvery',
  KUMA_STORE_POSTGRES_HOST: 'store.postgres.host',
  KUMA_STORE_POSTGRES_PORT: 'store.postgres.port',
  KUMA_STORE_POSTGRES_USER: 'store.postgres.user',
  KUMA_STORE_POSTGRES_PASSWORD: 'store.postgres.password',
  KUMA_STORE_POSTGRES_DB_NAME: 'store.postgres.dbName',
  KUMA_STORE_POSTGRES_CONNECTION_TIMEOUT: 'store.postgres.connectionTimeout',
  KUMA_STORE_POSTGRES_MAX_OPEN_CONNECTIONS: 'store.postgres.maxOpenConnections',
  KUMA_STORE_POSTGRES_MIN_OPEN_CONNECTIONS: 'store.postgres.minOpenConnections',
  KUMA_STORE_POSTGRES_MAX_CONNECTION_IDLE_TIME: 'store.postgres.maxConnectionIdleTime',
  KUMA_STORE_POSTGRES_MAX_CONNECTION_LIFETIME: 'store.postgres.maxConnectionLifetime',
  KUMA_STORE_POSTGRES_TLS_MODE: 'store.postgres.tls.mode',
  KUMA_STORE_POSTGRES_TLS_CERT_PATH: 'store.postgres.tls.certPath',
  KUMA_STORE_POSTGRES_TLS_KEY_PATH: 'store.postgres.tls.keyPath',
  KUMA_STORE_POSTGRES_TLS_CA_PATH: 'store.postgres.tls.caPath',
  KUMA_STORE_POSTGRES_TLS_DISABLE_SSLSNI: 'store.postgres.tls.disableSSLSNI',
  KUMA_STORE_POSTGRES_TOLERATE_NEWER_DB_VERSIONS: 'store.postgres.tolerateNewerDbVersions',
  KUMA_STORE_POSTGRES_READ_REPLICA_HOST: 'store.postgres.readReplica.host',
  KUMA_STORE_POSTGRES_READ_REPLICA_PORT: 'store.postgres.readReplica.port',
  KUMA_STORE_POSTGRES_READ_REPLICA_RATIO: 'store.postgres.readReplica.ratio',
  KUMA_STORE_POSTGRES_MAX_AGE: 'store.postgres.maxAge',
  KUMA_FABRIC_TYPE: 'fabric.type',
  KUMA_FABRIC_NATS_URL: 'fabric.nats.url',
  KUMA_MULTIZONE_ZONE_NAME: 'multizone.zone.name',
  KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_ADDRESS: 'runtime.kubernetes.admissionServer.address',
  KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_PORT: 'runtime.kubernetes.admissionServer.port',
  KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_CERT_DIR: 'runtime.kubernetes.admissionServer.certDir',
  KUMA_RUNTIME_KUBERNETES_CONTROL_PLANE_SERVICE_NAME: 'runtime.kubernetes.controlPlaneServiceName',
  KUMA_RUNTIME_KUBERNETES_SERVICE_ACCOUNT_NAME: 'runtime.kubernetes.serviceAccountName',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_IMAGE: 'runtime.kubernetes.injector.sidecarContainer.image',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_UID: 'runtime.kubernetes.injector.sidecarContainer.uid',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_GID: 'runtime.kubernetes.injector.sidecarContainer.gid',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_REDIRECT_PORT_INBOUND: 'runtime.kubernetes.injector.sidecarContainer.redirectPortInbound',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_REDIRECT_PORT_OUTBOUND: 'runtime.kubernetes.injector.sidecarContainer.redirectPortOutbound',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_ADMIN_PORT: 'runtime.kubernetes.injector.sidecarContainer.adminPort',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_SIDECAR_CONTAINER_DRAIN_TIME: 'runtime.kubernetes.injector.sidecarContainer.drainTime',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_INIT_CONTAINER_IMAGE: 'runtime.kubernetes.injector.initContainer.image',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_CNI_ENABLED: 'runtime.kubernetes.injector.cniEnabled',
  KUMA_RUNTIME_KUBERNETES_INJECTOR_CA_CERT_FILE: 'runtime.kubernetes.injector.caCertFile',
  KUMA_GENERAL_WORK_DIR: 'general.workDir',
  KUMA_GENERAL_TLS_CERT_FILE: 'general.tlsCertFile',
  KUMA_GENERAL_TLS_KEY_FILE: 'general.tlsKeyFile',
  KUMA_XDS_DATAPLANE_DEREGISTRATION_DELAY: 'xdsServer.dataplaneDeregistrationDelay',
  KUMA_XDS_SERVER_DEBOUNCE: 'xdsServer.debounce',
  KUMA_XDS_SERVER_DATAPLANE_STATUS_FLUSH_INTERVAL: 'xdsServer.dataplaneStatusFlushInterval',
  KUMA_DEFAULTS_SKIP_MESH_CREATION: 'defaults.skipMeshCreation',
  KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES: 'experimental.autoReachableServices',
  KUMA_LOG_LEVEL: 'logLevel',
  KUMA_LOG_FORMAT: 'logFormat',
};

/** Invalid configuration; `path` is the config key (`apiServer.http.port`) and `source` where it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function coerce(path: string, raw: unknown, like: unknown, source: string): unknown {
  const where = `${path} (from ${source})`;
  if (typeof like === 'number') {
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (typeof raw === 'boolean' || raw === '' || !Number.isInteger(n)) throw new ConfigError(`${where}: must be an integer, got ${JSON.stringify(raw)}`);
    return n;
  }
  if (typeof like === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new ConfigError(`${where}: must be true or false, got ${JSON.stringify(raw)}`);
  }
  if (typeof like === 'string') {
    if (typeof raw !== 'string' && typeof raw !== 'number') throw new ConfigError(`${where}: must be a string`);
    return String(raw);
  }
  throw new ConfigError(`${where}: cannot be set`);
}

function setPath(target: JsonObject, path: string, raw: unknown, source: string): void {
  const parts = path.split('.');
  let cur: JsonObject = target;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (!isObject(next)) throw new ConfigError(`${path} (from ${source}): unknown setting`);
    cur = next;
  }
  const leaf = parts[parts.length - 1]!;
  if (!(leaf in cur)) throw new ConfigError(`${path} (from ${source}): unknown setting`);
  cur[leaf] = coerce(path, raw, cur[leaf], source);
}

function mergeFile(target: JsonObject, file: JsonObject, prefix: string, source: string): void {
  for (const [k, v] of Object.entries(file)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) {
      if (!isObject(target[k])) throw new ConfigError(`${path} (from ${source}): unknown setting`);
      mergeFile(target[k], v, path, source);
    } else setPath(target, path, v, source);
  }
}

function validate(c: KumaCpConfig): void {
  const ports: [string, number, number][] = [
    ['apiServer.http.port', c.apiServer.http.port, 1],
    ['apiServer.https.port', c.apiServer.https.port, 1],
    ['dpServer.port', c.dpServer.port, 1],
    ['dpServer.plaintextPort', c.dpServer.plaintextPort, 0],
    ['diagnostics.serverPort', c.diagnostics.serverPort, 1],
    ['store.postgres.port', c.store.postgres.port, 1],
    ['store.postgres.readReplica.port', c.store.postgres.readReplica.port, 1],
    ['runtime.kubernetes.admissionServer.port', c.runtime.kubernetes.admissionServer.port, 0],
    ['runtime.kubernetes.injector.sidecarContainer.redirectPortInbound', c.runtime.kubernetes.injector.sidecarContainer.redirectPortInbound, 1],
    ['runtime.kubernetes.injector.sidecarContainer.redirectPortOutbound', c.runtime.kubernetes.injector.sidecarContainer.redirectPortOutbound, 1],
    ['runtime.kubernetes.injector.sidecarContainer.adminPort', c.runtime.kubernetes.injector.sidecarContainer.adminPort, 1],
  ];
  for (const [path, port, min] of ports) {
    if (port < min || port > 65535) throw new ConfigError(`${path}: port must be in the range [${min}, 65535], got ${port}`);
  }
  if (!(STORE_TYPES as readonly string[]).includes(c.store.type)) {
    throw new ConfigError(`store.type: must be one of ${STORE_TYPES.join(', ')}, got ${JSON.stringify(c.store.type)}`);
  }
  if (c.store.kubernetes.log !== 'embedded' && c.store.kubernetes.log !== 'nats') {
    throw new ConfigError(`store.kubernetes.log: must be embedded or nats, got ${JSON.stringify(c.store.kubernetes.log)}`);
  }
  if (!['', 'dpToken', 'serviceAccountToken', 'none'].includes(c.dpServer.authn.dpProxy.type)) {
    throw new ConfigError(`dpServer.authn.dpProxy.type: must be dpToken, serviceAccountToken or none, got ${JSON.stringify(c.dpServer.authn.dpProxy.type)}`);
  }
  if (c.dpServer.authn.dpProxy.type === 'serviceAccountToken' && c.store.type !== 'kubernetes') {
    throw new ConfigError('dpServer.authn.dpProxy.type: serviceAccountToken needs store.type kubernetes (the Pods and their service accounts are the cluster\'s)');
  }
  for (const [path, value] of [
    ['dpServer.readHeaderTimeout', c.dpServer.readHeaderTimeout],
    ['dpServer.authenticationTimeout', c.dpServer.authenticationTimeout],
    ['xdsServer.dataplaneDeregistrationDelay', c.xdsServer.dataplaneDeregistrationDelay],
    ['xdsServer.debounce', c.xdsServer.debounce],
    ['xdsServer.dataplaneStatusFlushInterval', c.xdsServer.dataplaneStatusFlushInterval],
    ['store.nats.maxAge', c.store.nats.maxAge],
    ['store.postgres.maxConnectionIdleTime', c.store.postgres.maxConnectionIdleTime],
    ['store.postgres.maxConnectionLifetime', c.store.postgres.maxConnectionLifetime],
    ['store.postgres.maxAge', c.store.postgres.maxAge],
    ['store.nats.contentGcInterval', c.store.nats.contentGcInterval],
    ['store.nats.contentGcGrace', c.store.nats.contentGcGrace],
    ['runtime.kubernetes.injector.sidecarContainer.drainTime', c.runtime.kubernetes.injector.sidecarContainer.drainTime],
  ] as const) {
    try {
      parseDuration(value);
    } catch (err) {
      throw new ConfigError(`${path}: ${(err as Error).message}`);
    }
  }
  for (const path of ['dpServer.readHeaderTimeout', 'dpServer.authenticationTimeout'] as const) {
    const v = path === 'dpServer.readHeaderTimeout' ? c.dpServer.readHeaderTimeout : c.dpServer.authenticationTimeout;
    if (parseDuration(v) <= 0) throw new ConfigError(`${path}: must be more than 0s, got ${JSON.stringify(v)}`);
  }
  for (const key of ['maxUnauthenticatedConnectionsPerSource', 'maxByNameServicesPerStream', 'maxByNameServicesPerGateway'] as const) {
    const v = c.dpServer[key];
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`dpServer.${key}: must be a whole number of at least 1, got ${JSON.stringify(v)}`);
  }
  if (!isLogLevel(c.logLevel)) throw new ConfigError(`logLevel: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(c.logLevel)}`);
  if (!isLogFormat(c.logFormat)) throw new ConfigError(`logFormat: must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(c.logFormat)}`);
  if (c.apiServer.bodyLimit < 1024) throw new ConfigError(`apiServer.bodyLimit: must be at least 1024 bytes`);
  if (c.access.type !== 'static' && c.access.type !== 'rbac') throw new ConfigError(`access.type: must be static or rbac, got ${JSON.stringify(c.access.type)}`);
  if (c.apiServer.authn.type !== 'tokens' && c.apiServer.authn.type !== 'none') throw new ConfigError(`apiServer.authn.type: must be tokens or none, got ${JSON.stringify(c.apiServer.authn.type)}`);
  const cp = c.store.checkpoints;
  if (cp.interval < 0) throw new ConfigError('store.checkpoints.interval: must be 0 (off) or a number of events');
  if (cp.keep < 1) throw new ConfigError('store.checkpoints.keep: must be at least 1');
  if (cp.archiveEvery < 0) throw new ConfigError('store.checkpoints.archiveEvery: must be 0 (off) or a number of events');
  if (c.store.nats.replicas < 1 || c.store.nats.replicas > 5) throw new ConfigError('store.nats.replicas: must be between 1 and 5');
  if (c.fabric.type !== '' && !(FABRIC_TYPES as readonly string[]).includes(c.fabric.type)) {
    throw new ConfigError(`fabric.type: must be one of ${FABRIC_TYPES.join(', ')} (or empty: nats with store.type nats, else none), got ${JSON.stringify(c.fabric.type)}`);
  }
  const pgc = c.store.postgres;
  if (!(PG_TLS_MODES as readonly string[]).includes(pgc.tls.mode)) throw new ConfigError(`store.postgres.tls.mode: must be one of ${PG_TLS_MODES.join(', ')}, got ${JSON.stringify(pgc.tls.mode)}`);
  if ((pgc.tls.mode === 'verifyCa' || pgc.tls.mode === 'verifyFull') && !pgc.tls.caPath) throw new ConfigError(`store.postgres.tls.caPath: must be set for store.postgres.tls.mode ${pgc.tls.mode}`);
  if (Boolean(pgc.tls.certPath) !== Boolean(pgc.tls.keyPath)) throw new ConfigError('store.postgres.tls.certPath and store.postgres.tls.keyPath: set both or neither');
  if (pgc.connectionTimeout < 1) throw new ConfigError('store.postgres.connectionTimeout: must be at least 1 (seconds)');
  if (pgc.maxOpenConnections < 1) throw new ConfigError('store.postgres.maxOpenConnections: must be at least 1');
  if (pgc.minOpenConnections < 0 || pgc.minOpenConnections > pgc.maxOpenConnections) throw new ConfigError('store.postgres.minOpenConnections: must be between 0 and store.postgres.maxOpenConnections');
  if (pgc.readReplica.ratio < 0 || pgc.readReplica.ratio > 100) throw new ConfigError('store.postgres.readReplica.ratio: must be between 0 and 100');
  if (parseDuration(c.store.nats.contentGcGrace) < 1) throw new ConfigError('store.nats.contentGcGrace: must be at least 1s');
}

const LOOPBACK_INTERFACE = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/i;

export function isLoopbackInterface(address: string): boolean {
  return LOOPBACK_INTERFACE.test(address.trim());
}

/**
 * Whether the HTTP API may listen where it is configured to: on loopback always; elsewhere only
 * with user authentication, or with the explicit opt-in (`'unauthenticated'`: warn about it).
 * Throws ConfigError otherwise.
 */
export function checkApiExposure(c: KumaCpConfig, authenticated: boolean): 'loopback' | 'authenticated' | 'unauthenticated' {
  const http = c.apiServer.http;
  if (!http.enabled || isLoopbackInterface(http.interface)) return 'loopback';
  if (authenticated) return 'authenticated';
  if (http.allowUnauthenticatedNonLoopback) return 'unauthenticated';
  throw new ConfigError(
    `apiServer.http.interface: "${http.interface}" is not a loopback address, and the API has no user authentication: anyone who reaches it could change the mesh. ` +
      'Bind it to 127.0.0.1 (the default), or set apiServer.http.allowUnauthenticatedNonLoopback=true (KUMA_API_SERVER_HTTP_ALLOW_UNAUTHENTICATED_NON_LOOPBACK=true) to accept that risk',
  );
}

export interface LoadedConfig {
  readonly config: KumaCpConfig;
  /** KUMA_* variables that name no setting (likely typos), to be logged as warnings. */
  readonly unknownEnv: string[];
}

/** Defaults, then the YAML file, then KUMA_* environment variables; validated. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const config = defaultConfig() as unknown as JsonObject;
  if (opts.file) {
    let doc: unknown;
    try {
      doc = decodeYaml(readFileSync(opts.file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${opts.file}: ${(err as Error).message}`);
    }
    if (doc !== null && doc !== undefined) {
      if (!isObject(doc)) throw new ConfigError(`config file ${opts.file}: must be a YAML mapping`);
      mergeFile(config, doc, '', opts.file);
    }
  }
  const env = opts.env ?? process.env;
  const unknownEnv: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('KUMA_') || value === undefined) continue;
    const path = ENV_VARS[name];
    if (path) setPath(config, path, value, name);
    else unknownEnv.push(name);
  }
  const typed = config as unknown as KumaCpConfig;
  validate(typed);
  return { config: typed, unknownEnv };
}
