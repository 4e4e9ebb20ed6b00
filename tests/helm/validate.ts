// Validates rendered objects the way the API server would, as far as it can run here:
// Kubernetes kinds with kubernetes-models, Istio kinds with the Istio 1.30 CRD schemas
// (plus the CEL rules and istiod's webhook checks that matter for what we render,
// transcribed), the rest structurally.
import Ajv, { type ValidateFunction } from 'ajv';
import { isIPv4, isIPv6 } from 'node:net';
import {
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
} from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { istioCrdSchemas } from '../support/istio-crds';
import type { JsonObject, KubeObject } from './render';

type Model = { validate(): void };
type ModelFactory = (object: KubeObject) => Model;

// The constructors take their own literal apiVersion/kind types; the rendered object was
// matched on exactly those before it is handed over.
const KUBERNETES_MODELS: Record<string, ModelFactory> = {
  'v1/ConfigMap': (o) => new ConfigMap(o as never),
  'v1/Secret': (o) => new Secret(o as never),
  'v1/Service': (o) => new Service(o as never),
  'v1/ServiceAccount': (o) => new ServiceAccount(o as never),
  'apps/v1/Deployment': (o) => new Deployment(o as never),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o as never),
  'networking.k8s.io/v1/Ingress': (o) => new Ingress(o as never),
  'rbac.authorization.k8s.io/v1/ClusterRole': (o) => new ClusterRole(o as never),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (o) => new ClusterRoleBinding(o as never),
  'rbac.authorization.k8s.io/v1/Role': (o) => new Role(o as never),
  'rbac.authorization.k8s.io/v1/RoleBinding': (o) => new RoleBinding(o as never),
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': (o) =>
    new ValidatingAdmissionPolicy(o as never),
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': (o) =>
    new ValidatingAdmissionPolicyBinding(o as never),
};

type Schema = { [key: string]: unknown };

/**
 * Server-side field validation (Strict) refuses unknown fields; the CRD schemas leave that
 * implicit, so every object schema that lists properties and does not preserve unknown
 * fields is closed here.
 */
function closeKnownObjects(schema: Schema): Schema {
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (
    properties &&
    schema['x-kubernetes-preserve-unknown-fields'] !== true &&
    schema.additionalProperties === undefined
  ) {
    schema.additionalProperties = false;
  }
  for (const child of Object.values(properties ?? {})) closeKnownObjects(child);
  for (const key of ['items', 'additionalProperties'] as const) {
    const child = schema[key];
    if (child && typeof child === 'object') closeKnownObjects(child as Schema);
  }
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    for (const child of (schema[key] as Schema[] | undefined) ?? []) closeKnownObjects(child);
  }
  return schema;
}

let istioValidators: Record<string, ValidateFunction> | undefined;

function istioValidator(type: string): ValidateFunction | undefined {
  if (!istioValidators) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('int32', true).addFormat('double', true).addFormat('date-time', true);
    for (const keyword of [
      'x-kubernetes-validations',
      'x-kubernetes-preserve-unknown-fields',
      'x-kubernetes-int-or-string',
      'x-kubernetes-list-type',
      'x-kubernetes-list-map-keys',
    ]) {
      ajv.addKeyword(keyword);
    }
    istioValidators = {};
    const istioSchemas = istioCrdSchemas(['ServiceEntry', 'DestinationRule', 'Gateway']) as Record<
      string,
      Schema
    >;
    for (const [key, schema] of Object.entries(istioSchemas)) {
      // metadata is validated by the API server itself, not by the CRD schema.
      const copy = closeKnownObjects(structuredClone(schema));
      (copy.properties as Schema).apiVersion = { type: 'string' };
      (copy.properties as Schema).kind = { type: 'string' };
      (copy.properties as Schema).metadata = { type: 'object' };
      istioValidators[key] = ajv.compile(copy);
    }
  }
  return istioValidators[type];
}

const ISTIO_PORT_NAME = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** The ServiceEntry CEL rules (x-kubernetes-validations) that can fire on what we render. */
function serviceEntryCelProblems(spec: JsonObject): string[] {
  const problems: string[] = [];
  const hosts = (spec.hosts as string[] | undefined) ?? [];
  if (hosts.includes('*')) problems.push('hostname cannot be wildcard');
  const resolution = (spec.resolution as string | undefined) ?? 'NONE';
  const endpoints = (spec.endpoints as JsonObject[] | undefined) ?? [];
  if (resolution === 'NONE' && spec.endpoints !== undefined) problems.push('NONE mode cannot set endpoints');
  if (spec.workloadSelector !== undefined && spec.endpoints !== undefined) {
    problems.push('only one of WorkloadSelector or Endpoints can be set');
  }
  const numbers = ((spec.ports as JsonObject[] | undefined) ?? []).map((p) => p.number);
  if (new Set(numbers).size !== numbers.length) problems.push('port number cannot be duplicated');
  for (const number of numbers) {
    if (typeof number !== 'number' || number < 1 || number > 65535)
      problems.push('port must be between 1-65535');
  }
  for (const endpoint of endpoints) {
    if (endpoint.address === undefined && endpoint.network === undefined)
      problems.push('Address is required');
    for (const [name, port] of Object.entries((endpoint.ports as Record<string, number> | undefined) ?? {})) {
      if (!(name.length < 63 && ISTIO_PORT_NAME.test(name)))
        problems.push(`port name must be valid: ${name}`);
      if (!(port > 0 && port <= 65535)) problems.push('port must be between 1-65535');
    }
  }
  return problems;
}

/** istio pkg/config/protocol: Parse(p).IsHTTP() || Parse(p).IsTLS(), case-insensitive. */
const HOST_DISTINGUISHING_PROTOCOLS = new Set([
  'http',
  'http2',
  'http_proxy',
  'grpc',
  'grpc-web',
  'https',
  'tls',
]);

/** Go's net.ParseIP: dotted IPv4 (no leading zeros) or IPv6 without a zone. */
function isGoIp(address: string): boolean {
  if (address.includes('%')) return false;
  if (isIPv6(address)) return true;
  return isIPv4(address) && address.split('.').every((octet) => octet === '0' || !octet.startsWith('0'));
}

/** istio pkg/config/validation/agent ValidateFQDN. */
function isIstioFqdn(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  const labels = name.split('.');
  if (/^[-+]?[0-9]+$/.test(labels[labels.length - 1]!)) return false; // all-numeric TLD
  return labels.every(
    (label, i) => (i === labels.length - 1 && label === '') || (label.length <= 63 && DNS_LABEL.test(label)),
  );
}

/**
 * The parts of istiod's ValidateServiceEntry (pkg/config/validation) that the CRD schema
 * does not enforce and that can fire on what we render; istiod's validating webhook
 * refuses the object, so `helm upgrade` fails.
 */
function serviceEntryIstiodProblems(spec: JsonObject): string[] {
  const problems: string[] = [];
  const hosts = (spec.hosts as string[] | undefined) ?? [];
  const resolution = (spec.resolution as string | undefined) ?? 'NONE';
  const ports = (spec.ports as JsonObject[] | undefined) ?? [];
  const portNames = new Set(ports.map((p) => p.name));
  for (const endpoint of (spec.endpoints as JsonObject[] | undefined) ?? []) {
    const address = String(endpoint.address ?? '');
    if (resolution === 'STATIC' && !address.startsWith('unix://') && !isGoIp(address)) {
      problems.push(`${address} is not a valid IP`);
    }
    if (resolution === 'DNS' && !isGoIp(address) && !isIstioFqdn(address)) {
      problems.push(`endpoint address "${address}" is not a valid FQDN or an IP address`);
    }
    for (const [name, port] of Object.entries((endpoint.ports as Record<string, number> | undefined) ?? {})) {
      if (!portNames.has(name)) problems.push(`endpoint port ${port} is not defined by the service entry`);
    }
  }
  if (
    resolution !== 'NONE' &&
    hosts.length > 1 &&
    ports.some((p) => !HOST_DISTINGUISHING_PROTOCOLS.has(String(p.protocol).toLowerCase()))
  ) {
    problems.push('multiple hosts provided with non-HTTP, non-TLS ports');
  }
  return problems;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function metadataProblems(object: KubeObject): string[] {
  const name = object.metadata.name;
  const problems: string[] = [];
  // Services need DNS labels; RBAC objects only path-segment names (the apiserver's
  // ValidatePathSegmentName: no '/', no '%', not '.' or '..'; Deckhouse uses `d8:...`);
  // everything else DNS subdomains.
  const rbac = object.apiVersion === 'rbac.authorization.k8s.io/v1';
  const pattern = object.kind === 'Service' ? DNS_LABEL : rbac ? /^(?!\.{1,2}$)[^/%]+$/ : DNS_SUBDOMAIN;
  if (!pattern.test(name) || name.length > (object.kind === 'Service' ? 63 : 253)) {
    problems.push(`metadata.name ${JSON.stringify(name)} is not a valid ${object.kind} name`);
  }
  for (const [key, value] of Object.entries(object.metadata.labels ?? {})) {
    if (
      typeof value !== 'string' ||
      value.length > 63 ||
      !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value)
    ) {
      problems.push(`label ${key} has an invalid value ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

function structuralProblems(object: KubeObject): string[] {
  const spec = object.spec as JsonObject | undefined;
  if (object.apiVersion === 'monitoring.coreos.com/v1' && object.kind === 'PrometheusRule') {
    const groups = spec?.groups as { name?: unknown; rules?: JsonObject[] }[] | undefined;
    if (!Array.isArray(groups) || groups.length === 0) return ['PrometheusRule needs spec.groups'];
    const problems: string[] = [];
    for (const group of groups) {
      if (typeof group.name !== 'string') problems.push('rule group without a name');
      for (const rule of group.rules ?? []) {
        if (typeof rule.alert !== 'string' && typeof rule.record !== 'string')
          problems.push('rule without alert/record');
        if (typeof rule.expr !== 'string' || rule.expr.length === 0)
          problems.push(`rule ${String(rule.alert)} has no expr`);
        if (rule.for !== undefined && !/^([0-9]+(ms|s|m|h|d|w|y))+$/.test(String(rule.for))) {
          problems.push(`rule ${String(rule.alert)} has an invalid duration ${String(rule.for)}`);
        }
      }
    }
    return problems;
  }
  if (object.apiVersion === 'monitoring.coreos.com/v1' && object.kind === 'PodMonitor') {
    // The fields prometheus-operator needs to build a scrape job (its CRD's required ones).
    const selector = spec?.selector as JsonObject | undefined;
    const endpoints = spec?.podMetricsEndpoints as JsonObject[] | undefined;
    const problems: string[] = [];
    if (!selector || typeof selector !== 'object') problems.push('PodMonitor needs spec.selector');
    if (!Array.isArray(endpoints) || endpoints.length === 0)
      problems.push('PodMonitor needs podMetricsEndpoints');
    for (const endpoint of endpoints ?? []) {
      if (typeof endpoint.port !== 'string' || !DNS_LABEL.test(endpoint.port))
        problems.push(`PodMonitor endpoint needs a named port, got ${JSON.stringify(endpoint.port)}`);
      if (typeof endpoint.path !== 'string' || !endpoint.path.startsWith('/'))
        problems.push(`PodMonitor endpoint path ${JSON.stringify(endpoint.path)} is not absolute`);
    }
    return problems;
  }
  if (object.apiVersion === 'cert-manager.io/v1' && object.kind === 'Certificate') {
    const issuer = spec?.issuerRef as JsonObject | undefined;
    if (typeof spec?.secretName !== 'string' || typeof issuer?.name !== 'string') {
      return ['Certificate needs spec.secretName and spec.issuerRef.name'];
    }
    return Array.isArray(spec.dnsNames) && spec.dnsNames.length > 0
      ? []
      : ['Certificate needs spec.dnsNames'];
  }
  if (object.apiVersion === 'deckhouse.io/v1' && object.kind === 'GrafanaDashboardDefinition') {
    // Deckhouse's CRD: spec.folder and spec.definition (the dashboard JSON as a string).
    if (typeof spec?.folder !== 'string' || spec.folder === '')
      return ['GrafanaDashboardDefinition needs spec.folder'];
    if (typeof spec.definition !== 'string') return ['GrafanaDashboardDefinition needs spec.definition'];
    try {
      const dashboard = JSON.parse(spec.definition) as JsonObject;
      return Array.isArray(dashboard.panels) && typeof dashboard.title === 'string'
        ? []
        : ['GrafanaDashboardDefinition definition has no title or panels'];
    } catch (error) {
      return [`GrafanaDashboardDefinition definition is not JSON: ${(error as Error).message}`];
    }
  }
  return [`no validator for ${object.apiVersion} ${object.kind}`];
}

/** Every problem the API server (or the CRD's validation) would report for this object. */
export function validationProblems(object: KubeObject): string[] {
  const type = `${object.apiVersion}/${object.kind}`;
  const problems = metadataProblems(object);
  const model = KUBERNETES_MODELS[type];
  const istio = istioValidator(type);
  if (model) {
    try {
      model(object).validate();
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  } else if (istio) {
    if (!istio(object)) {
      problems.push(
        ...(istio.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`),
      );
    }
    if (object.kind === 'ServiceEntry') {
      const spec = (object.spec ?? {}) as JsonObject;
      problems.push(...serviceEntryCelProblems(spec), ...serviceEntryIstiodProblems(spec));
    }
  } else {
    problems.push(...structuralProblems(object));
  }
  return problems.map((p) => `${object.kind}/${object.metadata.name}: ${p}`);
}
