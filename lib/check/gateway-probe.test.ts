import { createServer, type AddressInfo, type Server } from 'node:net';
import { startGatewayStandIn, type GatewayStandIn } from '../../tests/support/gateway-stand-in';
import { classifyDialError, federationSni, probeGateway } from './gateway-probe';

// Every dial goes to 127.0.0.1: the targets with documentation addresses are reached through
// `dialTo`, as `check --connect-to` does, and are never dialled themselves.
const SNI = federationSni('bar.xyz.svc.cluster-b.local', 8080);
const TARGET = { address: '203.0.113.20', port: 15443 };

async function tcpServer(onConnection: (socket: import('node:net').Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const portOf = (server: Server): number => (server.address() as AddressInfo).port;
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe('federationSni', () => {
  test('is the SNI a sidecar sends through an AUTO_PASSTHROUGH gateway (empty subset)', () => {
    expect(SNI).toBe('outbound_.8080_._.bar.xyz.svc.cluster-b.local');
  });
});

describe('probeGateway against loopback servers', () => {
  let gateway: GatewayStandIn;
  beforeAll(async () => {
    gateway = await startGatewayStandIn({ knownSni: SNI });
  });
  afterAll(() => gateway.close());

  test('a gateway that demands mTLS is alive: handshake done, SNI sent, latency measured, target reported', async () => {
    const probe = await probeGateway(TARGET, {
      sni: SNI,
      dialTo: { address: '127.0.0.1', port: gateway.port },
    });
    expect(probe).toMatchObject({ alive: true, stage: 'handshake', target: TARGET, sni: SNI });
    expect(probe.dialed).toStrictEqual({ address: '127.0.0.1', port: gateway.port });
    expect(probe.connectMs).toBeGreaterThanOrEqual(0);
    expect(probe.handshakeMs).toBeGreaterThanOrEqual(0);
    expect(probe.peerCertificate?.issuer).toContain('gateway stand-in test CA');
    expect(gateway.snis).toContain(SNI);
  });

  test('an SNI the gateway has no route for is cut off before TLS: dead', async () => {
    const other = federationSni('nope.xyz.svc.cluster-b.local', 80);
    const probe = await probeGateway(TARGET, {
      sni: other,
      dialTo: { address: '127.0.0.1', port: gateway.port },
    });
    expect(probe.alive).toBe(false);
    expect(['closed-before-tls', 'tls-alert', 'tls-error']).toContain(probe.stage);
    expect(gateway.snis).toContain(other);
  });
});

describe('probeGateway failures, each bounded', () => {
  test('TCP accepted, then closed without TLS: closed-before-tls', async () => {
    const server = await tcpServer((socket) => socket.destroy());
    const probe = await probeGateway({ address: '127.0.0.1', port: portOf(server) }, { sni: SNI });
    await close(server);
    expect(probe).toMatchObject({ alive: false, stage: 'closed-before-tls' });
    expect(probe.connectMs).toBeDefined();
  });

  test('TCP accepted, no TLS answer: handshake-timeout after the handshake timeout', async () => {
    const sockets: import('node:net').Socket[] = [];
    const server = await tcpServer((socket) => sockets.push(socket));
    const probe = await probeGateway(
      { address: '127.0.0.1', port: portOf(server) },
      { sni: SNI, handshakeTimeoutMs: 200 },
    );
    sockets.forEach((s) => s.destroy());
    await close(server);
    expect(probe).toMatchObject({ alive: false, stage: 'handshake-timeout' });
    expect(probe.error).toContain('200 ms');
  });

  test('nothing listening: refused', async () => {
    const server = await tcpServer(() => undefined);
    const port = portOf(server);
    await close(server);
    const probe = await probeGateway({ address: '127.0.0.1', port }, { sni: SNI });
    expect(probe).toMatchObject({ alive: false, stage: 'refused' });
  });

  test('without an SNI only TCP is dialled', async () => {
    const server = await tcpServer((socket) => socket.destroy());
    const probe = await probeGateway({ address: '127.0.0.1', port: portOf(server) });
    await close(server);
    expect(probe).toMatchObject({ alive: true, stage: 'tcp' });
    expect(probe.handshakeMs).toBeUndefined();
  });
});

describe('classifyDialError', () => {
  const error = (code: string, message = code) => Object.assign(new Error(message), { code });
  test.each([
    [error('ECONNREFUSED'), false, 'refused'],
    [error('ETIMEDOUT'), false, 'connect-timeout'],
    [error('EHOSTUNREACH'), false, 'unreachable'],
    [error('ENOTFOUND'), false, 'unreachable'],
    [error('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), true, 'tls-alert'],
    [error('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), true, 'tls-alert'],
    [error('ECONNRESET'), true, 'closed-before-tls'],
    [error('ERR_SSL_WRONG_VERSION_NUMBER'), true, 'tls-error'],
  ] as const)('%p (connected %p) -> %p', (e, connected, stage) => {
    expect(classifyDialError(e, connected)).toBe(stage);
  });
});
