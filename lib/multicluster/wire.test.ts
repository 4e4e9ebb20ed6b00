import { apiHostProblem, checkMulticlusterDocument, MULTICLUSTER_CODEC, networkNameProblem } from './wire';

const scope = { ownTrustDomain: 'cluster.local' };
const check = (raw: unknown) => checkMulticlusterDocument(raw, scope);
const ok = (raw: unknown) => {
  const result = check(raw);
  if (!result.ok) throw new Error(result.error);
  return result.value;
};

describe('the private multicluster document', () => {
  test('a Deckhouse document: status form = wire form, unknown keys tolerated and not kept', () => {
    const wire = {
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      apiHost: 'istio-api-proxy.b.example.com',
      networkName: 'network-cluster-local-123',
      clusterID: 'cluster-local-123',
      ambientGateways: [{ address: '192.0.2.11', port: 15008 }],
    };
    const value = ok(wire);
    expect(value).toEqual({
      document: {
        ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
        apiHost: 'istio-api-proxy.b.example.com',
        networkName: 'network-cluster-local-123',
      },
      rejected: [],
    });
    expect(MULTICLUSTER_CODEC.toStatus(value.document, '')).toEqual(value.document);
    // Read back from status: the same document.
    expect(ok(MULTICLUSTER_CODEC.fromStatus(value.document, ''))).toEqual(value);
    expect(MULTICLUSTER_CODEC.path).toBe('/private/multicluster.json');
    expect(MULTICLUSTER_CODEC.scope).toBe('private-multicluster');
  });

  test('ingressGateways must be a list: null or missing refuses the document (the last good one stays)', () => {
    expect(check({ apiHost: 'a.example', networkName: 'n', ingressGateways: null })).toEqual({
      ok: false,
      error: expect.stringContaining('ingressGateways must be a list'),
    });
    expect(check({ apiHost: 'a.example', networkName: 'n' }).ok).toBe(false);
    expect(check('text').ok).toBe(false);
    expect(check([]).ok).toBe(false);
    expect(check({ ingressGateways: Array(65).fill({ address: '192.0.2.1', port: 1 }) }).ok).toBe(false);
  });

  test('an empty list and missing apiHost/networkName are a valid, incomplete document', () => {
    expect(ok({ ingressGateways: [] })).toEqual({
      document: { ingressGateways: [], apiHost: '', networkName: '' },
      rejected: [],
    });
  });

  test('gateways are held to the federation address policy, item by item', () => {
    const value = ok({
      ingressGateways: [
        { address: '127.0.0.1', port: 15443 },
        { address: '169.254.169.254', port: 80 },
        { address: 'gw.b.example', port: 15443 },
        { address: 'gw.b.example', port: 15443 },
        { address: 'x', port: 0 },
        { address: 'svc.cluster.local', port: 15443 },
      ],
      apiHost: 'api.b.example',
      networkName: 'net-b',
    });
    expect(value.document.ingressGateways).toEqual([{ address: 'gw.b.example', port: 15443 }]);
    expect(value.rejected).toHaveLength(4);
    expect(value.rejected[0]).toMatch(/^ingressGateways\[0\]: address .*loopback/);
    expect(value.emptied).toBeUndefined();
  });

  test('every gateway refused: emptied (the fetch keeps the last good document)', () => {
    const value = ok({
      ingressGateways: [{ address: '127.0.0.1', port: 1 }],
      apiHost: 'a.example',
      networkName: 'n',
    });
    expect(value.emptied).toMatch(/every one of the 1/);
  });

  test('a bad apiHost or networkName is named and left empty, and the document is marked emptied (the fetch keeps the last good one)', () => {
    const value = ok({
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      apiHost: 'https://api.b.example/path',
      networkName: 'x'.repeat(64),
    });
    expect(value.document).toEqual({
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      apiHost: '',
      networkName: '',
    });
    expect(value.rejected).toEqual([
      expect.stringMatching(/^apiHost "https:\/\/api.b.example\/path" is not host or host:port/),
      expect.stringMatching(/^networkName "x+" is not a label value/),
    ]);
    expect(value.emptied).toBe('the published apiHost and networkName were refused');
    expect(ok({ ingressGateways: [], networkName: 'network b' }).emptied).toBe(
      'the published networkName was refused',
    );
    // Missing is not refused: the peer is simply not usable yet (verdict: MissingAPIHost).
    expect(ok({ ingressGateways: [], networkName: 'n' }).emptied).toBeUndefined();
    expect(ok({ ingressGateways: [], apiHost: 42, networkName: {} }).rejected).toEqual([
      'apiHost: not a string',
      'networkName: not a string',
    ]);
  });

  test.each([
    ['istio-api-proxy.example.com', undefined],
    ['API.Example.com', undefined],
    ['127.0.0.1:6443', undefined],
    ['[::1]:443', undefined],
    ['10.0.0.1', undefined],
    ['api.example.com:0', 'invalid port'],
    ['api.example.com:65536', 'invalid port'],
    ['api.example.com:080', 'invalid port'],
    ['https://api.example.com', 'not host or host:port'],
    ['api.example.com/api', 'neither a DNS name'],
    ['user@api.example.com', 'neither a DNS name'],
    ['api example.com', 'neither a DNS name'],
    ['[zz::1]:443', 'not host or host:port'],
    ['[1.2.3.4]', 'invalid IPv6'],
    ['a'.repeat(300), 'longer than'],
    ['', 'not host or host:port'],
  ])('apiHost %j', (host, problem) => {
    if (problem === undefined) expect(apiHostProblem(host)).toBeUndefined();
    else expect(apiHostProblem(host)).toContain(problem);
  });

  test.each([
    ['network-cluster-local-123', true],
    ['N_1.x', true],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['-a', false],
    ['a b', false],
    ['', false],
  ])('networkName %j valid: %s', (name, valid) => {
    expect(networkNameProblem(name) === undefined).toBe(valid);
  });
});
