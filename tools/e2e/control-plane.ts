import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCertificate, type TestCertificate } from '../../tests/fetch/certs';
import { httpGet } from './http';
import { KubeApi, type ApiConnection } from './kube-api';
import { ManagedProcess } from './processes';
import { freePort, lostBindRace, pollUntil } from './wait';

/**
 * etcd and kube-apiserver on 127.0.0.1 (random ports): one etcd serves every cluster of
 * a run, each kube-apiserver under its own --etcd-prefix, with a CA, serving certificate,
 * service-account keys and an admin token generated per run.
 */

const READY_TIMEOUT_MS = 120_000;
const BIND_ATTEMPTS = 3;

export interface Etcd {
  url: string;
  process: ManagedProcess;
}

export async function startEtcd(binary: string, dir: string): Promise<Etcd> {
  for (let attempt = 1; ; attempt++) {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const proc = ManagedProcess.start({
      name: 'etcd',
      command: binary,
      args: [
        '--name=e2e',
        `--data-dir=${join(dir, `etcd-data-${attempt}`)}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=e2e=${peer}`,
        '--initial-cluster-state=new',
        '--listen-metrics-urls=',
        // Test data: durability is not wanted, speed on a 2-core CI machine is.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      logFile: join(dir, 'etcd.log'),
    });
    try {
      await pollUntil(
        async () => {
          const res = await httpGet(`${client}/health`, { timeoutMs: 2000 });
          return (JSON.parse(res.body) as { health?: string }).health === 'true' ? true : undefined;
        },
        {
          what: 'etcd healthy',
          timeoutMs: READY_TIMEOUT_MS,
          abortIf: () => (proc.alive ? undefined : proc.describeExit()),
          describe: () => proc.logTail(20),
        },
      );
      return { url: client, process: proc };
    } catch (error) {
      await proc.stop();
      if (attempt >= BIND_ATTEMPTS || !lostBindRace(proc.logTail(50))) throw error;
    }
  }
}

export interface ApiServerCredentials {
  ca: TestCertificate;
  serving: TestCertificate;
  serviceAccountPublicPem: string;
  serviceAccountPrivatePem: string;
  token: string;
}

export function makeApiServerCredentials(name: string): ApiServerCredentials {
  const ca = makeCertificate({ commonName: `${name} kube-apiserver CA`, isCA: true });
  const serving = makeCertificate({
    commonName: 'kube-apiserver',
    isCA: false,
    issuer: ca,
    ipAddresses: ['127.0.0.1'],
  });
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ca,
    serving,
    serviceAccountPublicPem: sa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    serviceAccountPrivatePem: sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    token: randomBytes(32).toString('hex'),
  };
}

export interface ApiServer {
  connection: ApiConnection;
  api: KubeApi;
  process: ManagedProcess;
  kubeconfigPath: string;
}

export async function startApiServer(options: {
  binary: string;
  name: string;
  dir: string;
  etcdUrl: string;
  /** Service range of this cluster (distinct per cluster, as federation members require). */
  serviceCidr: string;
}): Promise<ApiServer> {
  const { dir, name } = options;
  mkdirSync(dir, { recursive: true });
  const creds = makeApiServerCredentials(name);
  const file = (base: string, content: string): string => {
    const path = join(dir, base);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const caFile = file('ca.crt', creds.ca.certPem);
  const certFile = file('apiserver.crt', creds.serving.certPem);
  const keyFile = file('apiserver.key', creds.serving.keyPem);
  const saPub = file('sa.pub', creds.serviceAccountPublicPem);
  const saKey = file('sa.key', creds.serviceAccountPrivatePem);
  const tokens = file('tokens.csv', `${creds.token},e2e-admin,e2e-admin-uid,system:masters\n`);

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const proc = ManagedProcess.start({
      name: `${name} kube-apiserver`,
      command: options.binary,
      args: [
        `--etcd-servers=${options.etcdUrl}`,
        `--etcd-prefix=/${name}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${port}`,
        `--tls-cert-file=${certFile}`,
        `--tls-private-key-file=${keyFile}`,
        `--cert-dir=${join(dir, 'certs')}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        `--token-auth-file=${tokens}`,
        '--authorization-mode=RBAC',
        `--service-cluster-ip-range=${options.serviceCidr}`,
        // No controller-manager here: nothing would create service-account tokens.
        '--disable-admission-plugins=ServiceAccount',
        '--profiling=false',
      ],
      logFile: join(dir, 'kube-apiserver.log'),
    });
    const connection: ApiConnection = { server, caPem: creds.ca.certPem, token: creds.token };
    const api = new KubeApi(connection);
    try {
      await pollUntil(
        async () => {
          const res = await api.raw('GET', '/readyz');
          return res.status === 200 ? true : undefined;
        },
        {
          what: `${name} kube-apiserver ready`,
          timeoutMs: READY_TIMEOUT_MS,
          abortIf: () => (proc.alive ? undefined : proc.describeExit()),
          describe: () => proc.logTail(30),
        },
      );
      const kubeconfigPath = file('kubeconfig', kubeconfig(name, server, caFile, creds.token));
      return { connection, api, process: proc, kubeconfigPath };
    } catch (error) {
      await proc.stop();
      if (attempt >= BIND_ATTEMPTS || !lostBindRace(proc.logTail(50))) throw error;
    }
  }
}

function kubeconfig(name: string, server: string, caFile: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: 'e2e-admin', user: { token } }],
    contexts: [{ name, context: { cluster: name, user: 'e2e-admin' } }],
    'current-context': name,
  });
}
