import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { TEST_ROOT_CA_PEM } from '../../tests/support/peer-identity';
import { PeerStore, parsePeers } from './peers';

const key = generateAuthnKeypair().pub;
const entry = (clusterUUID: string, authnKeyPub = key) => ({
  clusterUUID,
  authnKeyPub,
  rootCA: TEST_ROOT_CA_PEM,
});

test('valid entries are kept; invalid ones are dropped with a reason, not the whole file', () => {
  const set = parsePeers(
    JSON.stringify({ a: entry('a'), b: entry('other'), c: entry('c', 'not a key'), d: { clusterUUID: 'd' } }),
  );
  expect([...set.keys.keys()]).toEqual(['a']);
  expect(set.rejected.map((r) => r.clusterUUID)).toEqual(['b', 'c', 'd']);
});

test.each(['[]', 'null', '"x"', '{'])('a file that is not an object (%s) is refused', (text) => {
  expect(() => parsePeers(text)).toThrow();
});

describe('PeerStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'api-proxy-peers-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (content: string) => {
    writeFileSync(join(dir, 'tmp'), content);
    renameSync(join(dir, 'tmp'), join(dir, 'peers.json'));
  };

  test('loads, notices a change, and keeps the last good set when the file turns bad', () => {
    const store = new PeerStore(join(dir, 'peers.json'));
    expect(store.reload()).toMatchObject({ outcome: 'failed', error: 'ENOENT' });
    expect(store.loaded).toBe(false);
    write(JSON.stringify({ a: entry('a') }));
    expect(store.reload()).toMatchObject({ outcome: 'loaded', peers: 1 });
    expect(store.reload()).toEqual({ outcome: 'unchanged' });
    expect(store.publicKey('a')).toBe(key);
    write('{broken');
    expect(store.reload().outcome).toBe('failed');
    expect(store.publicKey('a')).toBe(key);
    write(JSON.stringify({ b: entry('b') }));
    expect(store.reload()).toMatchObject({ outcome: 'loaded', peers: 1 });
    expect(store.publicKey('a')).toBeUndefined();
  });
});
