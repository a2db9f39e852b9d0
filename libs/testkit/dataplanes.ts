/** A universal Dataplane with one HTTP inbound on 127.0.0.1 (e2e fixtures); `extra` adds networking fields such as outbounds. */
export const httpDataplane = (name: string, port: number, service: string, extra: object = {}) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'http' } }], ...extra },
});
