import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';

/** Who a service account token is, as the API server says. */
export type Reviewed =
  /** `pod`: the Pod a bound (projected) token was issued to, when the API server says so. */
  | { readonly authenticated: true; readonly namespace: string; readonly serviceAccount: string; readonly pod?: string }
  | { readonly authenticated: false; readonly error: string };

/**
 * Service account tokens checked with the API server's TokenReview, as Kuma's Kubernetes
 * authenticator does (pkg/xds/auth/k8s). Answers are kept a short while (keyed by a digest of
 * the token, never the token), so a thousand proxies reconnecting at once cost one review each,
 * and a revoked token stops working within `ttlMs`.
 */
export class TokenReviewer {
  private readonly api: k8s.AuthenticationV1Api;
  private readonly cache: LRUCache<string, Reviewed>;

  constructor(kc: k8s.KubeConfig, opts: { readonly ttlMs?: number; readonly max?: number } = {}) {
    this.api = kc.makeApiClient(k8s.AuthenticationV1Api);
    this.cache = new LRUCache({ max: opts.max ?? 20_000, ttl: opts.ttlMs ?? 30_000 });
  }

  async review(token: string): Promise<Reviewed> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit) return hit;
    const r = await this.api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    const username = r.status?.user?.username ?? '';
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
    const out: Reviewed = !r.status?.authenticated
      ? { authenticated: false, error: r.status?.error || 'the token is not valid' }
      : m
        ? { authenticated: true, namespace: m[1]!, serviceAccount: m[2]!, ...podOf(r.status?.user?.extra) }
        : { authenticated: false, error: `the token is not a service account's (user ${JSON.stringify(username)})` };
    this.cache.set(key, out);
    return out;
  }
}

/** The Pod of a bound service account token (`authentication.kubernetes.io/pod-name` in the user's extra). */
function podOf(extra: Record<string, string[]> | undefined): { pod?: string } {
  const v = extra && Object.hasOwn(extra, 'authentication.kubernetes.io/pod-name') ? extra['authentication.kubernetes.io/pod-name'] : undefined;
  return Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '' ? { pod: v[0] } : {};
}
