import { describe, expect, it } from 'vitest';
import { ServiceAccountTokenAuthenticator, type ServiceAccountReview } from './authn.ts';

/** `serviceAccountToken`: the token must be accepted by the API server, and be the Pod's own (namespace and service account). */
describe('ServiceAccountTokenAuthenticator', () => {
  const review: ServiceAccountReview = async (token) =>
    token === 'shop-web' ? { authenticated: true, namespace: 'shop', serviceAccount: 'web' } : token === 'bound-web-1' ? { authenticated: true, namespace: 'shop', serviceAccount: 'web', pod: 'web-1' } : token === 'down' ? Promise.reject(new Error('connect ECONNREFUSED')) : { authenticated: false, error: 'invalid bearer token' };
  const labels: Record<string, Record<string, string>> = { 'web-1.shop': { 'k8s.kuma.io/namespace': 'shop', 'k8s.kuma.io/service-account': 'web' }, 'web-2.shop': { 'k8s.kuma.io/namespace': 'shop', 'k8s.kuma.io/service-account': 'web' }, 'db-1.shop': { 'k8s.kuma.io/namespace': 'shop', 'k8s.kuma.io/service-account': 'db' } };
  const authn = new ServiceAccountTokenAuthenticator(review, (p) => labels[p.name]);
  const proxy = (name: string) => ({ mesh: 'default', name, key: `default.${name}` }) as never;

  it("accepts the Pod's own token", async () => {
    await expect(authn.authenticate(proxy('web-1.shop'), 'shop-web')).resolves.toBeUndefined();
    await expect(authn.authenticate(proxy('web-1.shop'), 'bound-web-1')).resolves.toBeUndefined();
  });

  it.each([
    ['no token', 'web-1.shop', undefined, /a service account token is required/],
    ['a token the API server refuses', 'web-1.shop', 'forged', /not accepted: invalid bearer token/],
    ['an API server that cannot be reached', 'web-1.shop', 'down', /could not review the service account token with the API server: connect ECONNREFUSED/],
    ["another service account's Pod", 'db-1.shop', 'shop-web', /service account web, but the Pod of Dataplane default.db-1.shop runs as db/],
    ['a Dataplane that does not exist', 'ghost.shop', 'shop-web', /there is no Dataplane default.ghost.shop/],
    ["another Pod's Dataplane with a bound token, even of the same service account", 'web-2.shop', 'bound-web-1', /bound to Pod shop\/web-1; it cannot act as Dataplane default.web-2.shop/],
  ])('refuses %s', async (_what, name, token, message) => {
    await expect(authn.authenticate(proxy(name), token)).rejects.toThrow(message);
  });
});
