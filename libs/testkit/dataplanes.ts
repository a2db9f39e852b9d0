import { http } from './http.ts';

/** A universal Dataplane with one HTTP inbound on 127.0.0.1 (e2e fixtures); `extra` adds networking fields such as outbounds. */
export const httpDataplane = (name: string, port: number, service: string, extra: object = {}) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'http' } }], ...extra },
});

/** The smallest valid Dataplane in the default mesh (store tests, where what it serves does not matter). */
export const plainDataplane = (name: string) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'svc' } }] },
});

/** The names of the default mesh's Dataplanes a control plane's API lists, sorted. */
export async function dataplaneNames(apiUrl: string): Promise<string[]> {
  const res = await http(apiUrl, 'GET', '/meshes/default/dataplanes?size=1000');
  return (res.body.items as { name: string }[]).map((i) => i.name).sort();
}
