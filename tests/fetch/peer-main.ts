// A TestPeer in its own process (run with Bun: `bun tests/fetch/peer-main.ts <config JSON>`), for
// tests that block their own event loop while the compiled hook runs (execFileSync).
// stdout: first line {endpoint, ca, publicDocument}; then one line per token check and per response.
import { TestPeer, type Behaviour, type TestPeerOptions } from './peer';

interface PeerMainConfig extends TestPeerOptions {
  privateBehaviour?: Behaviour;
  apiBehaviour?: Behaviour;
  /** Appended to the peer's rootCA in its public document (hostile bundles). */
  rootCASuffix?: string;
  /** Send ETags and answer 304 to a matching If-None-Match (our exporter's behaviour). */
  etags?: boolean;
  /** A multicluster document whose apiHost is this peer itself (it answers GET /api). */
  apiHostSelf?: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as PeerMainConfig;
const peer = new TestPeer({
  ...config,
  onTokenCheck: (tokenCheck) => process.stdout.write(JSON.stringify({ tokenCheck }) + '\n'),
  onResponse: (response) => process.stdout.write(JSON.stringify({ response }) + '\n'),
});
peer.etags = config.etags === true;
if (config.privateBehaviour) peer.privateBehaviour = config.privateBehaviour;
if (config.apiBehaviour) peer.apiBehaviour = config.apiBehaviour;
if (config.rootCASuffix) peer.publicOverrides = { rootCA: peer.rootCA.certPem + config.rootCASuffix };
const endpoint = await peer.start();
if (config.apiHostSelf)
  peer.privateDocument = { ...(config.privateDocument as object), apiHost: new URL(endpoint).host };
process.stdout.write(
  JSON.stringify({ endpoint, ca: peer.pki.ca.certPem, publicDocument: peer.publicDocument() }) + '\n',
);
process.on('SIGTERM', () => {
  void peer.stop().then(() => process.exit(0));
});
