/**
 * The bounded decoder against the bare parsers on a typical Dataplane body (JSON and YAML):
 * what the pre-scan and the key walk cost per request.
 */
import { parseAllDocuments } from 'yaml';
import { decodeJson, decodeYaml } from '../../libs/resources/decode.ts';

const dataplane = {
  type: 'Dataplane',
  mesh: 'default',
  name: 'backend-1',
  labels: { team: 'payments', 'kuma.io/zone': 'default' },
  networking: {
    address: '10.0.0.1',
    inbound: [{ port: 8080, servicePort: 80, tags: { 'kuma.io/service': 'backend', 'kuma.io/protocol': 'http', version: 'v1' } }],
    outbound: [
      { port: 10001, tags: { 'kuma.io/service': 'web' } },
      { port: 10002, tags: { 'kuma.io/service': 'db' } },
    ],
  },
};
const json = JSON.stringify(dataplane);
const yaml = `type: Dataplane
mesh: default
name: backend-1
labels:
  team: payments
  kuma.io/zone: default
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    servicePort: 80
    tags:
      kuma.io/service: backend
      kuma.io/protocol: http
      version: v1
  outbound:
  - port: 10001
    tags:
      kuma.io/service: web
  - port: 10002
    tags:
      kuma.io/service: db
`;

function rate(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - t);
  return iterations / (ns / 1e9);
}

const yamlBare = () => {
  const docs = parseAllDocuments(yaml, { uniqueKeys: true });
  return (Array.isArray(docs) ? docs : [docs])[0]!.toJS({ maxAliasCount: 100 });
};

export async function run(): Promise<unknown> {
  const n = Number(process.env['BENCH_DECODE_ITERATIONS'] ?? 200_000);
  const rows: Record<string, { bytes: number; bareOpsPerSec: number; decoderOpsPerSec: number; ratio: number }> = {};
  for (const [name, bare, bounded, bytes, iterations] of [
    ['json', () => JSON.parse(json), () => decodeJson(json), json.length, n],
    ['yaml', yamlBare, () => decodeYaml(yaml), yaml.length, Math.ceil(n / 10)],
  ] as const) {
    // Alternate to spread machine noise over both.
    const b1 = rate(bare, iterations);
    const d1 = rate(bounded, iterations);
    const b2 = rate(bare, iterations);
    const d2 = rate(bounded, iterations);
    const bareOps = Math.max(b1, b2);
    const decOps = Math.max(d1, d2);
    rows[name] = { bytes, bareOpsPerSec: Math.round(bareOps), decoderOpsPerSec: Math.round(decOps), ratio: Number((decOps / bareOps).toFixed(3)) };
  }
  console.table(rows);
  return rows;
}
