import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { orderedMatchers } from './matchers.ts';
import { chainName, clusterName, meshPassthroughPlugin } from './plugin.ts';

describe('MeshPassthrough plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshPassthroughPlugin])) it(name, run);
});

describe('MeshPassthrough matchers', () => {
  it("names chains and clusters as Kuma does", () => {
    expect(chainName('http', 'http', 80)).toBe('meshpassthrough_http_80');
    expect(chainName('10.0.0.0/8', 'tcp', 0)).toBe('meshpassthrough_tcp_10.0.0.0/8_*');
    expect(clusterName('api.example.com', 443)).toBe('meshpassthrough_api.example.com_443');
  });

  it('orders domains by label count then name, CIDRs by prefix length, and reports mixed HTTP protocols on a port', () => {
    const { chains } = orderedMatchers([
      { type: 'CIDR', value: '10.0.0.0/8' },
      { type: 'CIDR', value: '10.1.0.0/16' },
      { type: 'Domain', value: 'b.com', protocol: 'tls' },
      { type: 'Domain', value: 'a.b.com', protocol: 'tls' },
    ]);
    expect(chains.map((c) => c.value)).toEqual(['a.b.com', 'b.com', '10.1.0.0/16', '10.0.0.0/8']);
    expect(orderedMatchers([{ type: 'Domain', value: 'x', port: 80, protocol: 'http' }, { type: 'Domain', value: 'y', port: 80, protocol: 'http2' }]).conflicts).toEqual([80]);
  });
});
