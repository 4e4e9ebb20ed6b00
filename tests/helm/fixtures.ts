// Values the helm tests render: a cluster `cluster-b.local` federated with `cluster-a.local`.
import type { JsonObject, ModuleValues } from './render';

export type HttpsMode = 'CertManager' | 'CustomCertificate' | 'OnlyInURI' | 'Disabled';
export type Inlet = 'LoadBalancer' | 'NodePort';

export const CLUSTER_DOMAIN = 'cluster-b.local';
export const CLUSTER_UUID = '0f8e4b2a-6c1d-4e3f-9a7b-2d5c8e1f4a60';
export const PUBLIC_DOMAIN_TEMPLATE = '%s.example.com';
export const METADATA_HOST = 'istio-metadata.example.com';
export const CUSTOM_CERTIFICATE_SECRET = 'wildcard-example-com';

const PEER_ROOT_CA = '-----BEGIN CERTIFICATE-----\nMIIBpeerA\n-----END CERTIFICATE-----\n';
const LOCAL_ROOT_CA = '-----BEGIN CERTIFICATE-----\nMIIBlocalB\n-----END CERTIFICATE-----\n';
const PEER_KEY =
  '-----BEGIN ED25519 PUBLIC KEY-----\nMCowBQYDK2VwAyEApeerApeerApeerApeerApeerApeerApeerApeerA=\n-----END ED25519 PUBLIC KEY-----\n';
export const KEYPAIR = {
  pub: '-----BEGIN ED25519 PUBLIC KEY-----\nMCowBQYDK2VwAyEA0Tx8Pm3QrOPB6xPXdChWmxw/rDRKvPBLMa0aCaDfzfc=\n-----END ED25519 PUBLIC KEY-----\n',
  priv: '-----BEGIN ED25519 PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIE3a8k6Cj3E3bm4yFD6e7pE7pwbQ9K+HQkkk0ZmZ8x6E\n-----END ED25519 PRIVATE KEY-----\n',
};

export const TRUSTED_PEERS = [
  {
    name: 'cluster-a',
    trustDomain: 'cluster-a.local',
    clusterUUID: '5a2f8c62-7d2b-4bd5-8f57-1c2b3b6b7d10',
    rootCA: PEER_ROOT_CA,
    authnKeyPub: PEER_KEY,
  },
  {
    name: 'cluster-c',
    trustDomain: 'cluster-c.local',
    clusterUUID: '9c1d2e3f-0000-4bd5-8f57-1c2b3b6b7d11',
    rootCA: PEER_ROOT_CA.replace('peerA', 'peerC'),
    authnKeyPub: PEER_KEY,
  },
];

export const SERVICE_ENTRIES = [
  {
    hostname: 'foo.abc.svc.cluster-a.local',
    resolution: 'STATIC',
    federations: ['cluster-a'],
    ports: [
      { number: 8080, name: 'http', protocol: 'HTTP' },
      { number: 9090, name: 'grpc-api', protocol: 'HTTP2' },
    ],
    endpoints: [
      { address: '192.0.2.10', ports: { http: 15443, 'grpc-api': 15443 } },
      { address: '192.0.2.11', ports: { http: 15443, 'grpc-api': 15443 } },
    ],
  },
  {
    hostname: 'db.data.svc.cluster-c.local',
    resolution: 'DNS',
    federations: ['cluster-c'],
    ports: [{ number: 5432, name: 'tcp-pg', protocol: 'TCP' }],
    endpoints: [{ address: 'gw.cluster-c.example.net', ports: { 'tcp-pg': 443 } }],
  },
];

export const PUBLIC_SERVICES = [
  {
    hostname: 'bar.xyz.svc.cluster-b.local',
    ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
    allowedTrustDomains: ['cluster-a.local'],
  },
];

export const INGRESS_GATEWAYS = [{ address: '203.0.113.5', port: 15443 }];

export function globalValues(httpsMode: HttpsMode): JsonObject {
  const https: JsonObject = { mode: httpsMode };
  if (httpsMode === 'CertManager') https.certManager = { clusterIssuerName: 'letsencrypt' };
  if (httpsMode === 'CustomCertificate') https.customCertificate = { secretName: CUSTOM_CERTIFICATE_SECRET };
  return {
    discovery: { clusterDomain: CLUSTER_DOMAIN, clusterUUID: CLUSTER_UUID },
    modules: { publicDomainTemplate: PUBLIC_DOMAIN_TEMPLATE, https, ingressClass: 'nginx' },
  };
}

export interface Scenario {
  enabled: boolean;
  inlet: Inlet;
  nodePort?: number;
  advertise: boolean;
  federations: boolean;
  httpsMode: HttpsMode;
}

/** Module values as the hooks leave them for a scenario (before openapi defaults). */
export function scenarioValues(s: Scenario): ModuleValues {
  const ingressGateway: JsonObject = {
    inlet: s.inlet,
    serviceAnnotations: { 'example.com/lb-class': 'external' },
    nodeSelector: { 'node-role.kubernetes.io/frontend': '' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'frontend', effect: 'NoSchedule' }],
  };
  if (s.nodePort !== undefined) ingressGateway.nodePort = { port: s.nodePort };
  if (s.advertise) ingressGateway.advertise = [{ address: 'gw.example.com', port: 443 }];
  return {
    global: globalValues(s.httpsMode),
    istio: {
      federation: { enabled: s.enabled },
      alliance: { ingressGateway },
      internal: {
        remoteAuthnKeypair: KEYPAIR,
        federation: {
          localRootCA: LOCAL_ROOT_CA,
          publicServices: PUBLIC_SERVICES,
          ingressGateways: s.advertise ? [{ address: 'gw.example.com', port: 443 }] : INGRESS_GATEWAYS,
          trustedPeers: s.federations ? TRUSTED_PEERS : [],
          serviceEntries: s.federations ? SERVICE_ENTRIES : [],
        },
      },
    },
  };
}

export const FULL_SCENARIO: Scenario = {
  enabled: true,
  inlet: 'NodePort',
  nodePort: 30443,
  advertise: true,
  federations: true,
  httpsMode: 'CertManager',
};
