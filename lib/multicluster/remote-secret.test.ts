import { readKubeconfig, readRemoteSecret, readRemoteSecrets } from './remote-secret';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** The kubeconfig our template renders (templates/multicluster/_mesh.tpl, toYaml order). */
const ours = (name: string, token: string) => `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64('CA')}
    server: https://istio-api-proxy.b.example.com
  name: ${name}
contexts:
- context:
    cluster: ${name}
    user: ${name}
  name: ${name}
current-context: ${name}
kind: Config
preferences: {}
users:
- name: ${name}
  user:
    token: ${token}
`;

/** Deckhouse's template (older variant): quoted values, no CA. */
const deckhouse = (name: string, token: string) => `apiVersion: v1
kind: Config
preferences: {}
clusters:
- cluster:
    server: "https://istio-api-proxy.b.example.com"
  name: "${name}"
contexts:
- context:
    cluster: "${name}"
    user: "${name}"
  name: "${name}"
current-context: "${name}"
users:
- name: "${name}"
  user:
    token: "${token}"
`;

/** A Secret's jqFilter result (REMOTE_SECRET_JQ_FILTER): data values as the API returns them, base64. */
const filtered = (name: string, key: string | null, kubeconfig: string | null) => ({ name, key, kubeconfig });

describe('remote Secrets: the token we issued is found again', () => {
  test('our own Secret', () => {
    expect(readRemoteSecret(filtered('istio-remote-secret-b', 'b', b64(ours('b', 'tok.en.b'))))).toEqual({
      ok: true,
      value: { peer: 'b', token: 'tok.en.b', server: 'https://istio-api-proxy.b.example.com' },
    });
  });

  test('a Deckhouse-made Secret, kubeconfig as raw YAML in data', () => {
    const read = readRemoteSecret(filtered('istio-remote-secret-b', 'b', b64(deckhouse('b', 'dh.tok.en'))));
    expect(read).toMatchObject({ ok: true, value: { peer: 'b', token: 'dh.tok.en' } });
  });

  test('a Deckhouse-made Secret, kubeconfig base64-encoded once more inside data', () => {
    const read = readRemoteSecret(
      filtered('istio-remote-secret-b', 'b', b64(b64(deckhouse('b', 'dh.tok.en')))),
    );
    expect(read).toMatchObject({ ok: true, value: { peer: 'b', token: 'dh.tok.en' } });
  });

  test("Deckhouse's in-flight variant: data key, context, user named by the remote cluster ID", () => {
    const id = 'cluster-local-1234';
    const read = readRemoteSecret(filtered('istio-remote-secret-b', id, b64(deckhouse(id, 'dh.tok.en'))));
    expect(read).toMatchObject({ ok: true, value: { peer: 'b', token: 'dh.tok.en' } });
  });

  test('the current context decides, not the first user', () => {
    const text = `clusters: [{name: x, cluster: {server: https://x}}, {name: y, cluster: {server: https://y}}]
users: [{name: x, user: {token: tx}}, {name: y, user: {token: ty}}]
contexts: [{name: c, context: {cluster: y, user: y}}]
current-context: c`;
    expect(readKubeconfig(text)).toEqual({ server: 'https://y', token: 'ty' });
  });
});

describe('foreign or broken Secrets with the label are ignored with a reason, never thrown on', () => {
  test.each<[string, unknown, string]>([
    [
      'not named istio-remote-secret-*',
      filtered('my-remote', 'my-remote', b64(ours('x', 't'))),
      'name does not start',
    ],
    ['only the prefix', filtered('istio-remote-secret-', '', null), 'name does not start'],
    ['no data under its key', filtered('istio-remote-secret-b', 'b', null), 'no data key b'],
    ['data not base64', filtered('istio-remote-secret-b', 'b', '%%%'), 'kubeconfig'],
    ['not YAML', filtered('istio-remote-secret-b', 'b', b64('{{{')), 'not YAML'],
    ['YAML but no kubeconfig', filtered('istio-remote-secret-b', 'b', b64('a: 1')), 'no clusters or users'],
    [
      'a tokenFile instead of an inline token',
      filtered(
        'istio-remote-secret-b',
        'b',
        b64(ours('b', 'x').replace('token: x', 'tokenFile: /var/run/t')),
      ),
      'no inline token',
    ],
    [
      'exec credentials',
      filtered('istio-remote-secret-b', 'b', b64(ours('b', 'x').replace('token: x', 'exec: {command: sh}'))),
      'no inline token',
    ],
    [
      'no server',
      filtered(
        'istio-remote-secret-b',
        'b',
        b64('clusters: [{name: b}]\nusers: [{name: b, user: {token: t}}]'),
      ),
      'no server',
    ],
    ['not an object at all', 'garbage', 'not a Secret'],
  ])('%s', (_name, raw, problem) => {
    const read = readRemoteSecret(raw);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.problem).toContain(problem);
  });

  test('readRemoteSecrets keeps the good ones by peer and lists the rest', () => {
    const { byPeer, ignored } = readRemoteSecrets([
      filtered('istio-remote-secret-b', 'b', b64(ours('b', 't.b.b'))),
      filtered('somebody-elses', 'x', b64(ours('x', 't'))),
      null,
    ]);
    expect([...byPeer.keys()]).toEqual(['b']);
    expect(ignored).toEqual([
      { secret: 'somebody-elses', problem: 'name does not start with istio-remote-secret-' },
      { secret: '?', problem: 'not a Secret' },
    ]);
  });
});
