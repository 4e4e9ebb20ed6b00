import fc from 'fast-check';
import { checkGatewayAddress } from './address';

const opts = { localClusterDomain: 'cluster-a.local' };
const check = (a: string) => checkGatewayAddress(a, opts);

describe('checkGatewayAddress: accepted, in canonical form', () => {
  test.each([
    ['192.0.2.1', '192.0.2.1', 'ipv4'],
    ['8.8.8.8', '8.8.8.8', 'ipv4'],
    // Private ranges are allowed (policy: peers on private networks are normal).
    ['10.0.0.1', '10.0.0.1', 'ipv4'],
    ['172.16.5.4', '172.16.5.4', 'ipv4'],
    ['192.168.1.1', '192.168.1.1', 'ipv4'],
    ['100.64.0.1', '100.64.0.1', 'ipv4'],
    ['2001:db8::1', '2001:db8::1', 'ipv6'],
    ['2001:DB8::1', '2001:db8::1', 'ipv6'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', 'ipv6'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 'ipv6'],
    ['fd12:3456::1', 'fd12:3456::1', 'ipv6'],
    // NAT64 of a public IPv4 address.
    ['64:ff9b::c000:201', '64:ff9b::c000:201', 'ipv6'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201', 'ipv6'],
    ['gw.example.com', 'gw.example.com', 'dns'],
    ['GW.Example.COM.', 'gw.example.com', 'dns'],
    ['example.com', 'example.com', 'dns'],
    ['ingress.cluster-b.local', 'ingress.cluster-b.local', 'dns'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', 'dns'],
    ['a1.example.com', 'a1.example.com', 'dns'],
  ])('%p -> %p (%s)', (input, address, kind) => {
    expect(check(input)).toEqual({ ok: true, address, kind });
  });
});

describe('checkGatewayAddress: refused in every spelling', () => {
  test.each([
    // loopback
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', 'loopback'],
    ['::0:1', 'loopback'],
    // numeric host forms resolvers read as IPv4
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7F000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['2852039166', '169.254.169.254'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    // ... even when the address they spell is public: not a host name either way.
    ['3221225985', 'numeric host'],
    // Leading zeros are octal to inet_aton: 010.0.0.1 is 8.0.0.1, not 10.0.0.1.
    ['010.0.0.1', '8.0.0.1'],
    ['127.000.0.1', '127.0.0.1'],
    ['8.8.2056', 'numeric host'],
    // numeric last label that is not even an address
    ['1.2.3.4.5', 'numeric label'],
    ['foo.123', 'numeric label'],
    ['foo.0x1', 'numeric label'],
    ['09.1.1.1', 'numeric label'],
    // unspecified
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['0:0:0:0:0:0:0:0', 'unspecified'],
    // link-local and metadata
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'link-local'],
    ['fe80::1', 'link-local'],
    ['FE80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fd00:0ec2:0000:0000:0000:0000:0000:0254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['metadata.google.internal', 'metadata'],
    ['METADATA.GOOGLE.INTERNAL.', 'metadata'],
    ['metadata', 'metadata'],
    ['instance-data.ec2.internal', 'metadata'],
    // multicast, broadcast, reserved
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['FF05::1:3', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['fec0::1', 'site-local'],
    // IPv4 embedded in IPv6
    ['::ffff:127.0.0.1', 'IPv4-mapped'],
    ['::ffff:7f00:1', 'IPv4-mapped'],
    ['::FFFF:7F00:0001', 'IPv4-mapped'],
    ['0:0:0:0:0:ffff:7f00:1', 'IPv4-mapped'],
    ['::ffff:8.8.8.8', 'IPv4-mapped'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['::7f00:1', 'IPv4-compatible'],
    ['::ffff:0:7f00:1', 'IPv4-translated'],
    ['64:ff9b::127.0.0.1', 'NAT64'],
    ['64:ff9b::7f00:1', 'NAT64'],
    ['64:ff9b:1::a9fe:a9fe', 'NAT64'],
    ['2002:7f00:1::1', '6to4'],
    ['fe80::1%eth0', 'zone'],
    // local host names
    ['localhost', 'local host name'],
    ['LOCALHOST', 'local host name'],
    ['localhost.', 'local host name'],
    ['foo.localhost', 'local host name'],
    ['a.b.LOCALHOST.', 'local host name'],
    ['localhost.localdomain', 'local host name'],
    ['ip6-localhost', 'local host name'],
    ['ip6-loopback', 'local host name'],
    ['localhost6.localdomain6', 'local host name'],
    // names resolved inside our cluster
    ['gw.cluster-a.local', 'own cluster domain'],
    ['ingressgateway.d8-istio.svc.cluster-a.local', 'own cluster domain'],
    ['CLUSTER-A.LOCAL.', 'own cluster domain'],
    ['kubernetes.default.svc.cluster.local', 'own cluster domain cluster.local'],
    ['kubernetes.default.svc', 'search path'],
    ['kubernetes.default.svc.cluster', 'search path'],
    ['kubernetes.default', 'namespace default'],
    ['kube-dns.kube-system', 'namespace kube-system'],
    ['istiod.d8-istio', 'namespace d8-istio'],
    ['deckhouse.d8-system', 'namespace d8-system'],
    ['gateway', 'single-label'],
    // not addresses at all
    ['', 'empty'],
    [' 192.0.2.1', 'whitespace'],
    ['192.0.2.1\n', 'whitespace'],
    ['[::1]', 'neither'],
    ['gw.example.com:443', 'neither'],
    ['http://gw.example.com', 'neither'],
    ['gw_1.example.com', 'neither'],
    ['-gw.example.com', 'neither'],
    ['gw..example.com', 'neither'],
    ['a'.repeat(64) + '.example.com', 'neither'],
    ['a.'.repeat(127) + 'com', 'longer than 253'],
    ['bücher.example', 'non-ascii'],
    ['gw\u0000.example.com', 'control'],
  ])('%p is refused (%s)', (input, why) => {
    const result = check(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.toLowerCase()).toContain(reasonWord(why));
  });
});

/** The word each reason must contain (the table's second column, mapped to the message). */
function reasonWord(why: string): string {
  const map: Record<string, string> = {
    'own cluster domain': 'own cluster domain',
    'own cluster domain cluster.local': 'cluster.local',
    'namespace default': 'namespace default',
    'namespace kube-system': 'namespace kube-system',
    'namespace d8-istio': 'namespace d8-istio',
    'namespace d8-system': 'namespace d8-system',
    'local host name': 'local host name',
    'numeric label': 'numeric label',
    'numeric host': 'numeric host',
  };
  return (map[why] ?? why).toLowerCase();
}

test('the own-cluster-domain rule follows the option, and a trailing dot on it does not matter', () => {
  expect(checkGatewayAddress('gw.cluster-b.local', { localClusterDomain: 'cluster-b.local.' }).ok).toBe(
    false,
  );
  expect(checkGatewayAddress('gw.cluster-b.local', { localClusterDomain: 'cluster-a.local' }).ok).toBe(true);
  // A look-alike suffix is not inside the domain.
  expect(checkGatewayAddress('gw.xcluster-a.local', opts).ok).toBe(true);
});

describe('properties', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));

  test('every spelling of a loopback address is refused (decimal, hex, octal, short, mapped)', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 5 }), (b, c, d, form) => {
        const n = (127 * 2 ** 24 + b * 2 ** 16 + c * 2 ** 8 + d) >>> 0;
        const spellings = [
          `127.${b}.${c}.${d}`,
          String(n),
          `0x${n.toString(16)}`,
          `0${n.toString(8)}`,
          `127.${b * 2 ** 16 + c * 2 ** 8 + d}`,
          `::ffff:${((127 << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`,
        ];
        expect(check(spellings[form]!).ok).toBe(false);
      }),
    );
  });

  test('an accepted address is canonical: checking it again returns it unchanged', () => {
    const hex = fc.integer({ min: 0, max: 0xffff }).map((x) => x.toString(16));
    const v6 = fc.array(hex, { minLength: 8, maxLength: 8 }).map((g) => g.join(':'));
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9](\.[a-z][a-z0-9]{0,8}){1,3}\.?$/);
    fc.assert(
      fc.property(
        fc.oneof(
          v4.map((t) => t.join('.')),
          v6,
          name,
        ),
        (input) => {
          const first = check(input);
          if (!first.ok) return;
          expect(check(first.address)).toEqual(first);
          expect(first.address).toBe(first.address.toLowerCase());
          expect(first.address.endsWith('.')).toBe(false);
        },
      ),
    );
  });

  test('an IPv4 address and its zero-padded IPv6-mapped forms never both pass', () => {
    fc.assert(
      fc.property(v4, ([a, b, c, d]) => {
        const mapped = `0000:0000:0000:0000:0000:ffff:${((a << 8) | b).toString(16).padStart(4, '0')}:${((c << 8) | d).toString(16).padStart(4, '0')}`;
        expect(check(mapped).ok).toBe(false);
      }),
    );
  });
});
