// istio.mesh.v1alpha1.MeshNetworks as istiod parses it (pkg/config/mesh ParseMeshNetworks):
// the proto's fields, transcribed from istio.io/api mesh/v1alpha1/network.proto (unknown
// fields are refused by the YAML->proto step), then the checks of
// pkg/config/validation/agent validateNetwork. istiod refuses the whole document on any problem.
import { isIP } from 'node:net';
import Ajv from 'ajv';

const endpoint = {
  type: 'object',
  additionalProperties: false,
  properties: { fromCidr: { type: 'string' }, fromRegistry: { type: 'string' } },
  // proto oneof ne
  maxProperties: 1,
};
const gateway = {
  type: 'object',
  additionalProperties: false,
  required: ['port'],
  properties: {
    registryServiceName: { type: 'string' },
    address: { type: 'string' },
    port: { type: 'integer', minimum: 0, maximum: 4294967295 },
    locality: { type: 'string' },
  },
  // proto oneof gw
  not: { required: ['registryServiceName', 'address'] },
};
const MESH_NETWORKS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    networks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          endpoints: { type: 'array', items: endpoint },
          gateways: { type: 'array', items: gateway },
        },
      },
    },
  },
};

const validateShape = new Ajv({ allErrors: true }).compile(MESH_NETWORKS_SCHEMA);
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const FQDN_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/;

const isFqdn = (name: string) =>
  name.length <= 255 && name.split('.').every((label) => FQDN_LABEL.test(label));

type Network = {
  endpoints?: { fromCidr?: string; fromRegistry?: string }[];
  gateways?: { address?: string; registryServiceName?: string; port: number }[];
};

/** What istiod would refuse in this meshNetworks document; [] when it loads. */
export function meshNetworksProblems(doc: unknown): string[] {
  if (!validateShape(doc)) {
    return (validateShape.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  }
  const problems: string[] = [];
  for (const [name, network] of Object.entries(
    (doc as { networks?: Record<string, Network> }).networks ?? {},
  )) {
    for (const e of network.endpoints ?? []) {
      if (e.fromRegistry !== undefined && !DNS1123_LABEL.test(e.fromRegistry)) {
        problems.push(`${name}: invalid registry name ${e.fromRegistry}`);
      }
    }
    for (const g of network.gateways ?? []) {
      // RESOLVE_HOSTNAME_GATEWAYS defaults to true: an IP address or a DNS name.
      if (g.address !== undefined && isIP(g.address) === 0 && !isFqdn(g.address)) {
        problems.push(`${name}: ${g.address} is not a valid IP address or DNS name`);
      }
      if (!(g.port >= 1 && g.port <= 65535)) problems.push(`${name}: port ${g.port} out of range`);
    }
  }
  return problems;
}
