import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { runKumactl } from '../../libs/testkit/kumactl.ts';

/**
 * Conformance with Kuma 2.14's own REST test tables (kumahq/kuma pkg/api-server/testdata/
 * resources/crud), for the types we serve. Each row names the Kuma case it is taken from; the
 * expected bodies are written out in full, as Kuma's golden files are, so a changed title, detail,
 * field path or field order fails. Rows are our own, chosen from those tables.
 */

let cp: KumaCpProcess;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(cp.url, method, path, body, headers);

/** Kuma's error body (pkg/core/rest/errors), with the deprecated `details`/`causes` mirrors. */
function kumaError(status: number, title: string, detail: string, params: { field: string; reason: string }[] = []): Record<string, unknown> {
  return {
    type: '/std-errors',
    status,
    title,
    detail,
    ...(params.length > 0 ? { invalid_parameters: params } : {}),
    details: detail,
    ...(params.length > 0 ? { causes: params.map((p) => ({ field: p.field, message: p.reason })) } : {}),
  };
}
const invalid = (...params: { field: string; reason: string }[]) => kumaError(400, 'Could not process a resource', 'Resource is not valid', params);
const badFilter = (field: string, reason: string) =>
  kumaError(400, 'Could not retrieve resources', 'Resource is not valid', [{ field, reason }]);

const dataplane = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '10.1.2.1', inbound: [{ port: 1234, tags: { 'kuma.io/service': 'my-svc' } }] },
  ...extra,
});

const BACKWARD_COMPAT = "invalid characters. Valid characters are numbers, lowercase latin letters and '-', '_', '.' symbols.";
const LONG_NAME = `aaaaaab${'a'.repeat(250)}`;
const QUALIFIED_NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const DNS1035 =
  "Invalid Mesh resource name: 'aa.a'. It does not conform to the DNS format (RFC 1035). This is deprecated. Errors: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/** Everything the API can show, to prove a rejected request changed nothing. */
async function snapshot(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const plural of ['meshes', 'dataplanes', 'secrets', 'global-secrets']) out[plural] = (await api('GET', `/${plural}?size=1000`)).body.items;
  return out;
}

beforeAll(async () => {
  cp = await KumaCpProcess.start();
  // put_dataplanes_00 and put_secret_00: the resources the read rows below look at.
  expect((await api('PUT', '/meshes/default/dataplanes/dp-2', dataplane('dp-2'))).status).toBe(201);
  expect((await api('PUT', '/meshes/default/secrets/sec-1', { type: 'Secret', mesh: 'default', name: 'sec-1', data: 'dGVzdAo=' })).status).toBe(201);
});
afterAll(async () => cp?.destroy());

describe('Kuma 2.14 crud tables: rejections answer Kuma\'s body, change nothing and keep the process up', () => {
  const rows: [string, string, string, unknown, number, Record<string, unknown>][] = [
    ['put_dataplanes_01: a name that disagrees with the URL and is too long reports both', 'PUT', '/meshes/default/dataplanes/foo',
      dataplane(LONG_NAME), 400,
      invalid({ field: 'name', reason: 'name from the URL has to be the same as in body' }, { field: 'name', reason: 'value length must less or equal 253' })],
    ['put_dataplanes_02: a mesh that disagrees with the URL', 'PUT', '/meshes/default/dataplanes/dp-3',
      dataplane('dp-3', { mesh: 'diff-mesh' }), 400,
      invalid({ field: 'mesh', reason: 'mesh from the URL has to be the same as in body' })],
    ['put_dataplanes_03: a type that disagrees with the URL, even one we do not serve', 'PUT', '/meshes/default/dataplanes/dp-3',
      dataplane('dp-3', { type: 'MeshTrafficPermission' }), 400,
      invalid({ field: 'type', reason: 'type from the URL has to be the same as in body' })],
    ['put_dataplanes_04: inbound tags without kuma.io/service', 'PUT', '/meshes/default/dataplanes/dp-4',
      dataplane('dp-4', { networking: { address: '10.1.2.1', inbound: [{ port: 1234, tags: { version: 'v1' } }] } }), 400,
      invalid({ field: 'networking.inbound[0].tags["kuma.io/service"]', reason: 'tag has to exist' })],
    ['put_dataplanes_07: an empty type', 'PUT', '/meshes/default/dataplanes/dp-5',
      dataplane('dp-5', { type: '' }), 400,
      invalid({ field: 'type', reason: 'type from the URL has to be the same as in body' })],
    ['a name mismatch and an invalid spec are reported in one answer', 'PUT', '/meshes/default/dataplanes/dp-5',
      dataplane('other', { networking: { address: '', inbound: [{ port: 0, tags: { 'kuma.io/service': 'my-svc' } }] } }), 400,
      invalid(
        { field: 'name', reason: 'name from the URL has to be the same as in body' },
        { field: 'networking.address', reason: "address can't be empty" },
        { field: 'networking.inbound[0].port', reason: 'port must be in the range [1, 65535]' },
      )],
    ['labels are validated as Kubernetes qualified names and label values, at labels["key"]', 'PUT', '/meshes/default/dataplanes/dp-5',
      dataplane('dp-5', { labels: { 'Bad Key': 'ok', 'example.com/': 'bad value!' } }), 400,
      invalid(
        { field: 'labels["Bad Key"]', reason: QUALIFIED_NAME_PART },
        { field: 'labels["example.com/"]', reason: 'name part must be non-empty' },
        { field: 'labels["example.com/"]', reason: QUALIFIED_NAME_PART },
        { field: 'labels["example.com/"]', reason: LABEL_VALUE },
      )],
    ['a label key with a prefix that is not a DNS subdomain', 'PUT', '/meshes/default/dataplanes/dp-5',
      dataplane('dp-5', { labels: { 'Example.COM/team': 'a' } }), 400,
      invalid({
        field: 'labels["Example.COM/team"]',
        reason:
          "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      })],
    ['put_meshtimeout_spoofed_k8s_labels: a universal CP refuses Kubernetes identity labels', 'PUT', '/meshes/default/dataplanes/dp-1',
      dataplane('dp-1', { labels: { 'kuma.io/env': 'kubernetes', 'k8s.kuma.io/namespace': 'kube-system', 'k8s.kuma.io/service-account': 'admin' } }), 400,
      invalid(
        { field: 'labels["kuma.io/env"]', reason: 'label "kuma.io/env" is managed by the control plane: got "kubernetes", expected "universal"' },
        { field: 'labels["k8s.kuma.io/namespace"]', reason: 'label "k8s.kuma.io/namespace" is managed by the control plane and cannot be set here' },
        { field: 'labels["k8s.kuma.io/service-account"]', reason: 'label "k8s.kuma.io/service-account" is managed by the control plane and cannot be set here' },
      )],
    ['put_immutable_zone: a zone label of another zone (it would change the KRI)', 'PUT', '/meshes/default/dataplanes/dp-2',
      dataplane('dp-2', { labels: { 'kuma.io/zone': 'other-zone' } }), 400,
      invalid({ field: 'labels["kuma.io/zone"]', reason: 'label "kuma.io/zone" is managed by the control plane: got "other-zone", expected "default"' })],
    ['put_origin_differs_non_federated: an origin other than zone', 'PUT', '/meshes/default/secrets/sec-1',
      { type: 'Secret', mesh: 'default', name: 'sec-1', data: 'dGVzdAo=', labels: { 'kuma.io/origin': 'global' } }, 400,
      invalid({ field: 'labels["kuma.io/origin"]', reason: 'label "kuma.io/origin" is managed by the control plane: got "global", expected "zone"' })],
    ['put_display_name_differs: a display name other than the name', 'PUT', '/meshes/default/dataplanes/dp-2',
      dataplane('dp-2', { labels: { 'kuma.io/display-name': 'my-display-name' } }), 400,
      invalid({ field: 'labels["kuma.io/display-name"]', reason: 'label "kuma.io/display-name" is managed by the control plane: got "my-display-name", expected "dp-2"' })],
    ['a proxy type that is not the one the spec says', 'PUT', '/meshes/default/dataplanes/dp-2',
      dataplane('dp-2', { labels: { 'kuma.io/proxy-type': 'gateway' } }), 400,
      invalid({ field: 'labels["kuma.io/proxy-type"]', reason: 'label "kuma.io/proxy-type" is managed by the control plane: got "gateway", expected "sidecar"' })],
    ['list_mesh_doesnt_exist_not_found: a list in a Mesh that does not exist', 'GET', '/meshes/not-a-mesh/dataplanes', undefined, 404,
      kumaError(404, 'Failed to retrieve Mesh', 'Not found')],
    ['the same for a list of secrets', 'GET', '/meshes/not-a-mesh/secrets', undefined, 404,
      kumaError(404, 'Failed to retrieve Mesh', 'Not found')],
    ['one resource of a Mesh that does not exist is not found', 'GET', '/meshes/not-a-mesh/dataplanes/dp-2', undefined, 404,
      kumaError(404, 'Could not retrieve a resource', 'Not found')],
    ['delete_dataplanes: an absent resource', 'DELETE', '/meshes/default/dataplanes/dp-404', undefined, 404,
      kumaError(404, 'Could not delete a resource', 'Not found')],
    ['deleting from a Mesh that does not exist finds nothing to delete', 'DELETE', '/meshes/not-a-mesh/dataplanes/dp-2', undefined, 404,
      kumaError(404, 'Could not delete a resource', 'Not found')],
    ['list_mesh_00: an offset that is not a number', 'GET', '/meshes?offset=invalid', undefined, 400,
      kumaError(400, 'Could not retrieve resources', 'invalid: invalid offset: strconv.Atoi: parsing "invalid": invalid syntax')],
    ['list_dp_with_label_filter_bad: a filter that is not on labels', 'GET', '/meshes/default/dataplanes?filter[labelds.k8s.kuma.io/namespace]=x', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes.filter[labelds.k8s.kuma.io/namespace]', 'filters are only supported on labels and status')],
    ['list_dp_with_label_filter_op_unsupported: an operator', 'GET', '/meshes/default/dataplanes?filter[labels.k8s.kuma.io/namespace][eq]=x', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes.filter[labels.k8s.kuma.io/namespace][eq]', 'advanced filters are not supported')],
    ['list_dp_with_label_filter_unclosed: an unclosed bracket', 'GET', '/meshes/default/dataplanes?filter%5Blabels.foo=bar', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes.filter[labels.foo', 'advanced filters are not supported')],
    ['list_dp_with_label_filter_duplicate: the same filter twice', 'GET', '/meshes/default/dataplanes?filter[labels.a]=x&filter[labels.a]=y', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes.filter[labels.a]', 'duplicate filter parameter')],
    ['a bad filter on a list across meshes names that route', 'GET', '/dataplanes?filter[labelz.a]=x', undefined, 400,
      badFilter('/dataplanes.filter[labelz.a]', 'filters are only supported on labels and status')],
    ['a bad filter on dataplanes+insights', 'GET', '/meshes/default/dataplanes+insights?filter[labels.a][eq]=x', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes+insights.filter[labels.a][eq]', 'advanced filters are not supported')],
    ['an unknown gateway mode is rejected rather than matching everything', 'GET', '/meshes/default/dataplanes?gateway=bogus', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes.gateway', 'should use `true`, `false`, `builtin` or `delegated` instead of bogus')],
    ['get_resource_by_kri_bad-request: an empty short name', 'GET', '/_kri/kri___default_default__mtp-3_', undefined, 400,
      kumaError(400, 'Bad Request', 'bad request: unknown short name of resource type: ""')],
    ['a KRI with too few parts', 'GET', '/_kri/kri_dp_default', undefined, 400,
      kumaError(400, 'Bad Request', 'bad request: invalid identifier string: "kri_dp_default"')],
    ['a KRI that does not start with kri', 'GET', '/_kri/kro_dp_default_default__dp-2_', undefined, 400,
      kumaError(400, 'Bad Request', 'bad request: identifier must start with \'kri\': "kro_dp_default_default__dp-2_"')],
    ['get_resource_by_kri_not-found: a KRI of nothing', 'GET', '/_kri/kri_dp_default_default__dp-404_', undefined, 404,
      kumaError(404, 'Could not retrieve a resource', 'Not found')],
    ['a KRI of another zone names nothing a universal zone CP holds', 'GET', '/_kri/kri_dp_default_zone-2__dp-2_', undefined, 404,
      kumaError(404, 'Could not retrieve a resource', 'Not found')],
    ['a KRI with a section names no Dataplane', 'GET', '/_kri/kri_dp_default_default__dp-2_extra_more', undefined, 404,
      kumaError(404, 'Could not retrieve a resource', 'Not found')],
    ['path_param_nul_byte: a NUL byte in a name is rejected before any lookup', 'GET', '/meshes/default/dataplanes/dp-2%00', undefined, 400,
      kumaError(400, 'Bad Request', 'Resource is not valid', [{ field: 'name', reason: BACKWARD_COMPAT }])],
    ['path_param_nul_byte: a NUL byte in a name to PUT', 'PUT', '/meshes/default/dataplanes/dp%00x', dataplane('dp%00x'), 400,
      kumaError(400, 'Bad Request', 'Resource is not valid', [{ field: 'name', reason: BACKWARD_COMPAT }])],
    ['path_param_nul_byte: a NUL byte in a name to DELETE', 'DELETE', '/meshes/default/dataplanes/dp%00x', undefined, 400,
      kumaError(400, 'Bad Request', 'Resource is not valid', [{ field: 'name', reason: BACKWARD_COMPAT }])],
    ['path_param_nul_byte: a NUL byte in a global name', 'GET', '/meshes/default%00', undefined, 400,
      kumaError(400, 'Bad Request', 'Resource is not valid', [{ field: 'name', reason: BACKWARD_COMPAT }])],
    ['path_param_nul_byte: a NUL byte in a mesh', 'GET', '/meshes/defa%00ult/dataplanes', undefined, 400,
      kumaError(400, 'Bad Request', 'Resource is not valid', [{ field: 'mesh', reason: BACKWARD_COMPAT }])],
    ['path_param_nul_byte: a NUL byte in a KRI name', 'GET', '/_kri/kri_dp_default_default__dp%00x_', undefined, 400,
      kumaError(400, 'Bad Request', `bad request: name: ${BACKWARD_COMPAT}`)],
    ['list_dp_overview_status_filter_04: a status filter on the plain list', 'GET', '/meshes/default/dataplanes?filter[status]=Online', undefined, 400,
      kumaError(400, 'Bad Request', 'bad request: filtering by status is only supported on the _overview endpoint')],
    ['a status filter on a plain list across meshes', 'GET', '/dataplanes?filter[status]=Offline', undefined, 400,
      kumaError(400, 'Bad Request', 'bad request: filtering by status is only supported on the _overview endpoint')],
    ['list_dp_overview_status_filter_03: an unknown status', 'GET', '/meshes/default/dataplanes/_overview?filter[status]=broken', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes/_overview.filter[status]', 'must be one of Online, Offline, Partially degraded')],
    ['an unknown status on the legacy overview path', 'GET', '/meshes/default/dataplanes+insights?filter[status]=up', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes+insights.filter[status]', 'must be one of Online, Offline, Partially degraded')],
    ['a status filter does not excuse a bad label filter', 'GET', '/meshes/default/dataplanes/_overview?filter[status]=Online&filter[label.a]=b', undefined, 400,
      badFilter('/meshes/{mesh}/dataplanes/_overview.filter[label.a]', 'filters are only supported on labels and status')],
    ['an overview list in a Mesh that does not exist', 'GET', '/meshes/not-a-mesh/dataplanes/_overview', undefined, 404,
      kumaError(404, 'Failed to retrieve Mesh', 'Not found')],
    ['find with a format Kuma does not know (formatResource)', 'GET', '/meshes/default/dataplanes/dp-2?format=yaml', undefined, 400,
      kumaError(400, 'Could not retrieve a resource', 'Resource is not valid', [{ field: '', reason: '"format" must be one of ["k8s", "kubernetes", "universal"]' }])],
    ['the same format check on a global resource', 'GET', '/meshes/default?format=K8S', undefined, 400,
      kumaError(400, 'Could not retrieve a resource', 'Resource is not valid', [{ field: '', reason: '"format" must be one of ["k8s", "kubernetes", "universal"]' }])],
    ['and on GET /_kri/{kri}', 'GET', '/_kri/kri_dp_default_default__dp-2_?format=json', undefined, 400,
      kumaError(400, 'Could not retrieve a resource', 'Resource is not valid', [{ field: '', reason: '"format" must be one of ["k8s", "kubernetes", "universal"]' }])],
    ['a Secret has no Kubernetes form (it is not a Kuma custom resource)', 'GET', '/meshes/default/secrets/sec-1?format=kubernetes', undefined, 400,
      kumaError(400, 'Could not retrieve a resource', 'Secret has no Kubernetes form: it is not a Kuma custom resource')],
    ['kuma.io/policy-role is Kubernetes-only and not a Dataplane\'s', 'PUT', '/meshes/default/dataplanes/dp-2',
      dataplane('dp-2', { labels: { 'kuma.io/policy-role': 'consumer' } }), 400,
      invalid({ field: 'labels["kuma.io/policy-role"]', reason: 'label "kuma.io/policy-role" is managed by the control plane and cannot be set here' })],
    ['a Mesh gets no zone, env, origin or mesh label, so it cannot carry one', 'PUT', '/meshes/default',
      { type: 'Mesh', name: 'default', labels: { 'kuma.io/zone': 'default', 'kuma.io/origin': 'zone', team: 'a' } }, 400,
      invalid(
        { field: 'labels["kuma.io/zone"]', reason: 'label "kuma.io/zone" is managed by the control plane and cannot be set here' },
        { field: 'labels["kuma.io/origin"]', reason: 'label "kuma.io/origin" is managed by the control plane and cannot be set here' },
      )],
    ['a proxy type on a Secret', 'PUT', '/meshes/default/secrets/sec-1',
      { type: 'Secret', mesh: 'default', name: 'sec-1', data: 'dGVzdAo=', labels: { 'kuma.io/proxy-type': 'sidecar' } }, 400,
      invalid({ field: 'labels["kuma.io/proxy-type"]', reason: 'label "kuma.io/proxy-type" is managed by the control plane and cannot be set here' })],
    ['a display name on a Mesh other than its name', 'PUT', '/meshes/default',
      { type: 'Mesh', name: 'default', labels: { 'kuma.io/display-name': 'prod' } }, 400,
      invalid({ field: 'labels["kuma.io/display-name"]', reason: 'label "kuma.io/display-name" is managed by the control plane: got "prod", expected "default"' })],
    ['route_and_kri_not_found: a resource type there is no route for', 'GET', '/meshes/default/not-a-type', undefined, 404,
      kumaError(404, 'Not Found', 'Page Not Found')],
    ['route_and_kri_not_found: no such endpoint', 'GET', '/no-such-endpoint/x/y/z', undefined, 404,
      kumaError(404, 'Not Found', 'Page Not Found')],
    ['an unknown type to PUT has no route either', 'PUT', '/meshes/default/frobnicators/x', { type: 'Frobnicator', mesh: 'default', name: 'x' }, 404,
      kumaError(404, 'Not Found', 'Page Not Found')],
  ];
  it.each(rows)('%s', async (_, method, path, body, status, expected) => {
    const before = await snapshot();
    const res = await api(method, path, body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual(expected);
    expect(await snapshot()).toEqual(before);
    expect((await api('GET', '/')).status).toBe(200);
  });
});

describe('Kuma 2.14 crud tables: what is served', () => {
  it('put_meshes_00 / get_mesh_legacy_name: a Mesh in Kuma\'s field order with kri_m____<name>_', async () => {
    const res = await api('GET', '/meshes/default');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['type', 'name', 'creationTime', 'modificationTime', 'kri']);
    expect(res.body).toMatchObject({ type: 'Mesh', name: 'default', kri: 'kri_m____default_' });
  });

  it('put_update_dataplanes_01: a Dataplane with its computed labels, then kri, then the spec', async () => {
    const res = await api('GET', '/meshes/default/dataplanes/dp-2');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['type', 'mesh', 'name', 'creationTime', 'modificationTime', 'labels', 'kri', 'networking']);
    expect(res.body.labels).toEqual({
      'kuma.io/env': 'universal',
      'kuma.io/mesh': 'default',
      'kuma.io/origin': 'zone',
      'kuma.io/proxy-type': 'sidecar',
      'kuma.io/zone': 'default',
    });
    // In Kuma's order: a Go map's keys, sorted, as in the golden file.
    expect(Object.keys(res.body.labels)).toEqual(['kuma.io/env', 'kuma.io/mesh', 'kuma.io/origin', 'kuma.io/proxy-type', 'kuma.io/zone']);
    expect(res.body.kri).toBe('kri_dp_default_default__dp-2_');
  });

  it('a gateway Dataplane is labelled kuma.io/proxy-type: gateway', async () => {
    const gw = dataplane('gw-1', { networking: { address: '10.1.2.9', gateway: { tags: { 'kuma.io/service': 'edge' } } } });
    expect((await api('PUT', '/meshes/default/dataplanes/gw-1', gw)).status).toBe(201);
    expect((await api('GET', '/meshes/default/dataplanes/gw-1')).body.labels['kuma.io/proxy-type']).toBe('gateway');
  });

  it('put_secret_01 / get_globalsecret: secrets have no short name, so no kri', async () => {
    const secret = await api('GET', '/meshes/default/secrets/sec-1');
    expect(secret.status).toBe(200);
    expect(secret.body).not.toHaveProperty('kri');
    const globals = await api('GET', '/global-secrets');
    expect(globals.body.items.length).toBeGreaterThan(0);
    for (const item of globals.body.items) expect(item).not.toHaveProperty('kri');
  });

  it('list items and DataplaneOverview items carry the kri after labels', async () => {
    const list = await api('GET', '/meshes/default/dataplanes?name=dp-2');
    expect(list.body.items.map((i: { kri: string }) => i.kri)).toEqual(['kri_dp_default_default__dp-2_']);
    const all = await api('GET', '/meshes');
    expect(all.body.items.find((m: { name: string }) => m.name === 'default').kri).toBe('kri_m____default_');
    const overviews = await api('GET', '/meshes/default/dataplanes+insights?name=dp-2');
    expect(Object.keys(overviews.body.items[0])).toEqual(['type', 'mesh', 'name', 'creationTime', 'modificationTime', 'labels', 'kri', 'dataplane']);
    expect(overviews.body.items[0].kri).toBe('kri_dp_default_default__dp-2_');
  });

  it('get_dp_by_kri: GET /_kri/{kri} answers the resource as its own GET does', async () => {
    const byKri = await api('GET', '/_kri/kri_dp_default_default__dp-2_');
    expect(byKri.status).toBe(200);
    expect(byKri.body).toEqual((await api('GET', '/meshes/default/dataplanes/dp-2')).body);
    // No zone part names this zone too (a resource created here before it had zone labels).
    expect((await api('GET', '/_kri/kri_dp_default___dp-2_')).body.name).toBe('dp-2');
    const mesh = await api('GET', '/_kri/kri_m____default_');
    expect(mesh.status).toBe(200);
    expect(mesh.body).toEqual((await api('GET', '/meshes/default')).body);
  });

  it('get_dp_overview_by_kri: /_kri/{kri}/_overview answers the DataplaneOverview; other types 400', async () => {
    const ov = await api('GET', '/_kri/kri_dp_default_default__dp-2_/_overview');
    expect(ov.status).toBe(200);
    expect(ov.body).toMatchObject({ type: 'DataplaneOverview', mesh: 'default', name: 'dp-2', kri: 'kri_dp_default_default__dp-2_', dataplane: { networking: { address: '10.1.2.1' } } });
    const mesh = await api('GET', '/_kri/kri_m____default_/_overview');
    expect(mesh.status).toBe(400);
    expect(mesh.body).toMatchObject({ type: '/std-errors', status: 400, title: 'Bad Request' });
  });

  it('list_dp_with_filters: gateway modes filter, case-insensitively', async () => {
    const names = async (q: string) => (await api('GET', `/meshes/default/dataplanes?${q}`)).body.items.map((i: { name: string }) => i.name);
    expect(await names('gateway=TRUE')).toEqual(['gw-1']);
    expect(await names('gateway=delegated')).toEqual(['gw-1']);
    expect(await names('gateway=false')).not.toContain('gw-1');
  });

  it('managed labels sent with the values the control plane computes are accepted', async () => {
    const labels = { 'kuma.io/zone': 'default', 'kuma.io/origin': 'zone', 'kuma.io/display-name': 'dp-7', team: 'a' };
    expect((await api('PUT', '/meshes/default/dataplanes/dp-7', dataplane('dp-7', { labels }))).status).toBe(201);
    const stored = (await api('GET', '/meshes/default/dataplanes/dp-7')).body.labels;
    expect(stored).toMatchObject(labels);
    expect(Object.keys(stored)).toEqual(Object.keys(stored).sort());
  });

  it('a resource read back (with its kri) applies unchanged', async () => {
    const read = await api('GET', '/meshes/default/dataplanes/dp-2');
    const res = await api('PUT', '/meshes/default/dataplanes/dp-2', read.body);
    expect(res.status).toBe(200);
    expect((await api('GET', '/meshes/default/dataplanes/dp-2')).body.kri).toBe('kri_dp_default_default__dp-2_');
  });

  it('put_meshes: an RFC 1035 name answers {}; a name that is not is accepted with Kuma\'s warnings', async () => {
    const plain = await api('PUT', '/meshes/new-mesh', { type: 'Mesh', name: 'new-mesh' });
    expect(plain.status).toBe(201);
    expect(plain.body).toEqual({});
    const dotted = await api('PUT', '/meshes/aa.a', { type: 'Mesh', name: 'aa.a' });
    expect(dotted.status).toBe(201);
    // Kuma 2.14's model.Deprecations: the Mesh's deprecations only, no summary line.
    expect(dotted.body).toEqual({ warnings: [DNS1035] });
    expect((await api('GET', '/meshes/aa.a')).body.kri).toBe('kri_m____aa.a_');
    const again = await api('PUT', '/meshes/aa.a', { type: 'Mesh', name: 'aa.a' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ warnings: [DNS1035] });
  });

  it('put_dataplanes_09: an inbound without tags is accepted and stored as sent', async () => {
    const untagged = { type: 'Dataplane', mesh: 'default', name: 'dp-6', networking: { address: '10.1.2.1', inbound: [{ port: 1234 }] } };
    const res = await api('PUT', '/meshes/default/dataplanes/dp-6', untagged);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({});
    const read = await api('GET', '/meshes/default/dataplanes/dp-6');
    expect(read.body.networking).toEqual({ address: '10.1.2.1', inbound: [{ port: 1234 }] });
    expect(read.body.labels).not.toHaveProperty('kuma.io/display-name');
    const empty = await api('PUT', '/meshes/default/dataplanes/dp-6b', { ...untagged, name: 'dp-6b', networking: { address: '10.1.2.1', inbound: [{ port: 1234, tags: {} }] } });
    expect(empty.status).toBe(201);
    expect((await api('GET', '/')).status).toBe(200);
  });

  it('an outbound-only Dataplane (no inbound, no gateway) is accepted, as in Kuma 2.14', async () => {
    const body = { type: 'Dataplane', mesh: 'default', name: 'dp-out', networking: { address: '10.1.2.7', transparentProxying: { redirectPortInbound: 15006, redirectPortOutbound: 15001 } } };
    expect((await api('PUT', '/meshes/default/dataplanes/dp-out', body)).status).toBe(201);
    expect((await api('GET', '/meshes/default/dataplanes/dp-out')).body.networking).toEqual(body.networking);
    expect((await api('GET', '/')).status).toBe(200);
  });

  it('list_dp_overview_status_filter: filter[status] on the overviews, case-insensitively, before pagination', async () => {
    const names = async (path: string) => (await api('GET', path)).body.items.map((i: { name: string }) => i.name);
    // No proxy is connected to this control plane: every Dataplane is Offline.
    const all = await names('/meshes/default/dataplanes/_overview?size=1000');
    expect(all.length).toBeGreaterThan(1);
    expect(await names('/meshes/default/dataplanes/_overview?filter[status]=offline&size=1000')).toEqual(all);
    expect(await names('/meshes/default/dataplanes/_overview?filter[status]=Online')).toEqual([]);
    expect(await names('/meshes/default/dataplanes+insights?filter[status]=Partially%20degraded')).toEqual([]);
    const page = await api('GET', '/meshes/default/dataplanes/_overview?filter[status]=Offline&size=1');
    expect(page.body).toMatchObject({ total: all.length, items: [{ type: 'DataplaneOverview', name: all[0] }] });
    expect(page.body.next).toContain('filter%5Bstatus%5D=Offline');
    // An empty value filters nothing, on every list.
    expect((await api('GET', '/meshes/default/dataplanes?filter[status]=')).status).toBe(200);
  });

  it('find with ?format=kubernetes answers the object Kuma infers for a universal store', async () => {
    const dp = (await api('GET', '/meshes/default/dataplanes/dp-2')).body;
    const k8s = await api('GET', '/meshes/default/dataplanes/dp-2?format=kubernetes');
    expect(k8s.status).toBe(200);
    expect(Object.keys(k8s.body)).toEqual(['kind', 'apiVersion', 'metadata', 'mesh', 'spec']);
    expect(k8s.body).toEqual({
      kind: 'Dataplane',
      apiVersion: 'kuma.io/v1alpha1',
      metadata: { name: 'dp-2', namespace: 'kuma-system', creationTimestamp: `${dp.creationTime.slice(0, 19)}Z` },
      mesh: 'default',
      spec: { networking: dp.networking },
    });
    const ns = await api('GET', '/meshes/default/dataplanes/dp-2?format=k8s&namespace=apps');
    expect(ns.body.metadata.namespace).toBe('apps');
    const mesh = await api('GET', '/meshes/default?format=k8s');
    expect(mesh.body).toEqual({
      kind: 'Mesh',
      apiVersion: 'kuma.io/v1alpha1',
      metadata: { name: 'default', creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
      spec: {},
    });
    expect((await api('GET', '/_kri/kri_dp_default_default__dp-2_?format=kubernetes')).body).toEqual(k8s.body);
    expect((await api('GET', '/meshes/default/dataplanes/dp-2?format=universal')).body).toEqual(dp);
    expect((await api('GET', '/meshes/default/secrets/sec-1?format=universal')).status).toBe(200);
  });

  it('history items show the resource with its kri', async () => {
    const h = await api('GET', '/meshes/default/dataplanes/dp-2/_history');
    expect(h.status).toBe(200);
    expect(h.body.items[0].resource.kri).toBe('kri_dp_default_default__dp-2_');
  });

  it('kumactl: get -o yaml (with kri) applies back, tables are unchanged, and apply prints Kuma\'s warnings', async () => {
    const yaml = await runKumactl(cp, ['get', 'dataplane', 'dp-2', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain('kri: kri_dp_default_default__dp-2_');
    const applied = await runKumactl(cp, ['apply', '-f', '-'], yaml.stdout);
    expect(applied).toMatchObject({ code: 0, stderr: '' });
    const table = await runKumactl(cp, ['get', 'dataplanes']);
    expect(table.stdout.split('\n')[0]).toMatch(/^MESH\s+NAME\s+TAGS\s+ADDRESS\s+AGE$/);
    const warned = await runKumactl(cp, ['apply', '-f', '-'], 'type: Mesh\nname: b.b\n');
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain("Warning: Invalid Mesh resource name: 'b.b'. It does not conform to the DNS format (RFC 1035).");
  });
});
