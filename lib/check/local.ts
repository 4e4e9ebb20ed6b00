import { parse as parseYaml } from 'yaml';
import { isRecord } from '../util/guards';
import { result, type CheckResult } from './result';
import {
  at,
  containerEnv,
  CRD_NAME,
  DOCUMENTS_SECRET,
  KEYPAIR_SECRET,
  list,
  MESH_CONFIG_MAP,
  NAMESPACE,
  objectName,
  OPERATOR_CONFIGMAP,
  OPERATOR_NAMESPACE,
  parseJsonRecord,
  secretData,
  text,
  type ClusterSnapshot,
  type Read,
} from './snapshot';

/**
 * The checks of this cluster's own side: CRD, settings, identity, exporter, istiod.
 * Pure: a snapshot (and the exporter's served document) in, result records out.
 */

const MODULE = 'module';
const ISTIOD = 'istiod';

/** This cluster as the module rendered it; undefined fields were not found. */
export interface LocalView {
  trustDomain?: string;
  clusterUUID?: string;
  /** The public document the module rendered for the exporter (JSON text). */
  publicDocument?: { clusterUUID?: string; authnKeyPub?: string; rootCA?: string };
  authnPrivateKey?: string;
  /** The Istio cluster id the gateway claims (ISTIO_META_CLUSTER_ID). */
  gatewayClusterId?: string;
  /** `https://<Ingress host>/metadata/`, what peers put in spec.metadataEndpoint. */
  metadataEndpoint?: string;
}

function readError(what: string, read: Read<unknown>): string | undefined {
  if (read.ok) return undefined;
  return `cannot read ${what}: ${read.error}`;
}

const RBAC_HINT =
  'the check reads with your kubeconfig user; it needs get/list on the objects named (kubectl auth can-i)';

function operatorConfig(snapshot: ClusterSnapshot): { global?: unknown; istio?: unknown; enabled?: string } {
  const cm = snapshot.operatorConfigMap.ok ? snapshot.operatorConfigMap.value : undefined;
  const parse = (key: string): unknown => {
    const raw = text(cm, 'data', key);
    if (raw === undefined) return undefined;
    try {
      return parseYaml(raw) as unknown;
    } catch {
      return undefined;
    }
  };
  const enabled = text(cm, 'data', 'istioEnabled');
  return { global: parse('global'), istio: parse('istio'), ...(enabled ? { enabled } : {}) };
}

/** Our identity from what the module rendered (documents Secret, key pair, gateway, Ingress). */
export function localView(snapshot: ClusterSnapshot, metadataUrl?: string): LocalView {
  const view: LocalView = {};
  const documents = snapshot.documentsSecret.ok ? snapshot.documentsSecret.value : undefined;
  const publicDoc = parseJsonRecord(secretData(documents, 'public.json'));
  if (publicDoc) {
    view.publicDocument = {};
    for (const key of ['clusterUUID', 'authnKeyPub', 'rootCA'] as const) {
      const v = publicDoc[key];
      if (typeof v === 'string') view.publicDocument[key] = v;
    }
  }
  const global = operatorConfig(snapshot).global;
  const uuid = view.publicDocument?.clusterUUID ?? text(global, 'discovery', 'clusterUUID');
  if (uuid) view.clusterUUID = uuid;
  const gatewayEnv = snapshot.gatewayDeployment.ok ? containerEnv(snapshot.gatewayDeployment.value) : {};
  const domain = gatewayEnv.TRUST_DOMAIN ?? text(global, 'discovery', 'clusterDomain');
  if (domain) view.trustDomain = domain;
  if (gatewayEnv.ISTIO_META_CLUSTER_ID) view.gatewayClusterId = gatewayEnv.ISTIO_META_CLUSTER_ID;
  const keypair = snapshot.keypairSecret.ok ? snapshot.keypairSecret.value : undefined;
  const priv = secretData(keypair, 'priv.pem');
  if (priv) view.authnPrivateKey = priv;
  const ingress = snapshot.exporterIngress.ok ? snapshot.exporterIngress.value : undefined;
  const host = text(ingress, 'spec', 'rules', 0, 'host');
  if (metadataUrl) view.metadataEndpoint = metadataUrl;
  else if (host) view.metadataEndpoint = `https://${host}/metadata/`;
  return view;
}

export function checkCrd(snapshot: ClusterSnapshot): CheckResult {
  const title = `CRD ${CRD_NAME} installed and established`;
  const error = readError(`CRD ${CRD_NAME}`, snapshot.crd);
  if (error) return result('crd', MODULE, title, 'fail', { detail: error, hint: RBAC_HINT });
  const crd = snapshot.crd.ok ? snapshot.crd.value : undefined;
  if (!crd) {
    return result('crd', MODULE, title, 'fail', {
      detail: 'not found',
      hint: 'install the module (it ships crds/istiofederation.yaml) or `kubectl apply -f crds/`',
    });
  }
  const conditions = list(at(crd, 'status', 'conditions'));
  const established = conditions.some(
    (c) => text(c, 'type') === 'Established' && text(c, 'status') === 'True',
  );
  const versions = list(at(crd, 'spec', 'versions'))
    .filter((v) => at(v, 'served') === true)
    .map((v) => text(v, 'name'))
    .filter(Boolean);
  if (!established) {
    return result('crd', MODULE, title, 'fail', {
      detail: 'not Established',
      hint: `kubectl get crd ${CRD_NAME} -o yaml: see status.conditions (NamesAccepted, Established)`,
    });
  }
  return result('crd', MODULE, title, 'pass', { detail: `served versions: ${versions.join(', ')}` });
}

/** `federation.enabled` from ModuleConfig `istio`, else from addon-operator's ConfigMap. */
export function checkSettings(snapshot: ClusterSnapshot): CheckResult {
  const title = 'module istio enabled with federation.enabled: true';
  if (snapshot.moduleConfig) {
    const error = readError('ModuleConfig istio', snapshot.moduleConfig);
    if (error) return result('settings', MODULE, title, 'warn', { detail: error, hint: RBAC_HINT });
    const mc = snapshot.moduleConfig.ok ? snapshot.moduleConfig.value : undefined;
    if (!mc) {
      return result('settings', MODULE, title, 'fail', {
        detail: 'ModuleConfig istio not found',
        hint: 'create ModuleConfig istio with spec.enabled: true and spec.settings.federation.enabled: true',
      });
    }
    const moduleEnabled = at(mc, 'spec', 'enabled');
    const federation = at(mc, 'spec', 'settings', 'federation', 'enabled');
    if (moduleEnabled === false || federation !== true) {
      return result('settings', MODULE, title, 'fail', {
        detail: `ModuleConfig istio: spec.enabled=${String(moduleEnabled)}, spec.settings.federation.enabled=${String(federation)}`,
        hint: 'kubectl edit moduleconfig istio: set spec.enabled: true and spec.settings.federation.enabled: true',
      });
    }
    return result('settings', MODULE, title, 'pass', { detail: 'ModuleConfig istio' });
  }
  const where = `ConfigMap ${OPERATOR_NAMESPACE}/${OPERATOR_CONFIGMAP}`;
  const error = readError(where, snapshot.operatorConfigMap);
  if (error) return result('settings', MODULE, title, 'warn', { detail: error, hint: RBAC_HINT });
  if (!snapshot.operatorConfigMap.ok || !snapshot.operatorConfigMap.value) {
    return result('settings', MODULE, title, 'warn', {
      detail: `neither ModuleConfig istio (kind not served) nor ${where} found: settings not verified`,
      hint: 'where addon-operator keeps its config elsewhere, verify istio.federation.enabled there',
    });
  }
  const config = operatorConfig(snapshot);
  const federation = at(config.istio, 'federation', 'enabled');
  if (config.enabled === 'false' || federation !== true) {
    return result('settings', MODULE, title, 'fail', {
      detail: `${where}: istioEnabled=${config.enabled ?? '(unset)'}, istio.federation.enabled=${String(federation)}`,
      hint: `set istioEnabled: "true" and federation.enabled: true in the istio key of ${where}`,
    });
  }
  return result('settings', MODULE, title, 'pass', { detail: where });
}

/** The module rendered our identity: documents Secret and key pair, trust domain, clusterUUID. */
export function checkIdentity(snapshot: ClusterSnapshot, view: LocalView): CheckResult {
  const title = 'module rendered our identity (documents Secret, key pair)';
  for (const [what, read] of [
    [`Secret ${NAMESPACE}/${DOCUMENTS_SECRET}`, snapshot.documentsSecret],
    [`Secret ${NAMESPACE}/${KEYPAIR_SECRET}`, snapshot.keypairSecret],
  ] as const) {
    const error = readError(what, read);
    if (error) return result('identity', MODULE, title, 'fail', { detail: error, hint: RBAC_HINT });
  }
  const missing = [
    ...(view.publicDocument?.clusterUUID && view.publicDocument.authnKeyPub && view.publicDocument.rootCA
      ? []
      : [`public.json in Secret ${DOCUMENTS_SECRET}`]),
    ...(view.authnPrivateKey ? [] : [`priv.pem in Secret ${KEYPAIR_SECRET}`]),
    ...(view.trustDomain ? [] : ['the trust domain (ingressgateway TRUST_DOMAIN)']),
  ];
  if (missing.length) {
    return result('identity', MODULE, title, 'fail', {
      detail: `missing: ${missing.join('; ')}`,
      hint: 'the module has not rendered yet or failed: look at the istio module in the addon-operator (deckhouse) log',
    });
  }
  return result('identity', MODULE, title, 'pass', {
    detail: `trust domain ${view.trustDomain}, clusterUUID ${view.clusterUUID}`,
  });
}

export function checkExporterReady(snapshot: ClusterSnapshot): CheckResult {
  const title = `Deployment ${NAMESPACE}/metadata-exporter ready`;
  const error = readError('Deployment metadata-exporter', snapshot.exporterDeployment);
  if (error) return result('exporter.ready', MODULE, title, 'fail', { detail: error, hint: RBAC_HINT });
  const d = snapshot.exporterDeployment.ok ? snapshot.exporterDeployment.value : undefined;
  if (!d) {
    return result('exporter.ready', MODULE, title, 'fail', {
      detail: 'not found',
      hint: 'the module renders it when federation is enabled: see the settings line and the module log',
    });
  }
  const ready = at(d, 'status', 'readyReplicas');
  const wanted = at(d, 'spec', 'replicas');
  if (typeof ready !== 'number' || ready < 1) {
    return result('exporter.ready', MODULE, title, 'fail', {
      detail: `${typeof ready === 'number' ? ready : 0}/${typeof wanted === 'number' ? wanted : '?'} replicas ready`,
      hint: `kubectl -n ${NAMESPACE} describe deployment metadata-exporter; kubectl -n ${NAMESPACE} logs deploy/metadata-exporter (readiness is /healthz: documents loaded)`,
    });
  }
  return result('exporter.ready', MODULE, title, 'pass', {
    detail: `${ready}/${typeof wanted === 'number' ? wanted : '?'} replicas ready`,
  });
}

export type ServedDocument = { ok: true; body: unknown; ms: number } | { ok: false; error: string };

/** Our exporter serves the public document the module rendered, at the endpoint peers use. */
export function checkServedPublicDocument(view: LocalView, served: ServedDocument | undefined): CheckResult {
  const title = 'our metadata endpoint serves our public document';
  if (!view.metadataEndpoint) {
    return result('exporter.public-document', MODULE, title, 'fail', {
      detail: `no metadata endpoint: Ingress ${NAMESPACE}/metadata-exporter not found`,
      hint: 'pass --metadata-url https://<host>/metadata/ (what peers put in spec.metadataEndpoint)',
    });
  }
  const url = `${view.metadataEndpoint.replace(/\/$/, '')}/public/public.json`;
  if (!served) return result('exporter.public-document', MODULE, title, 'skip', { detail: url });
  if (!served.ok) {
    return result('exporter.public-document', MODULE, title, 'fail', {
      detail: served.error,
      hint:
        'peers fetch this URL: check the Ingress, its TLS certificate and DNS from outside; ' +
        'from a machine that cannot reach it, pass --metadata-url (and --metadata-ca) for a URL that reaches the exporter',
    });
  }
  const body = served.body;
  const want = view.publicDocument ?? {};
  const differing = (['clusterUUID', 'authnKeyPub', 'rootCA'] as const).filter(
    (k) =>
      !isRecord(body) || typeof body[k] !== 'string' || (body[k] as string).trim() !== (want[k] ?? '').trim(),
  );
  if (differing.length) {
    return result('exporter.public-document', MODULE, title, 'fail', {
      detail: `${url} differs from Secret ${DOCUMENTS_SECRET} in ${differing.join(', ')}`,
      hint: `the endpoint serves another cluster's or stale documents: check the Ingress host and restart the exporter (kubectl -n ${NAMESPACE} rollout restart deploy/metadata-exporter)`,
    });
  }
  return result('exporter.public-document', MODULE, title, 'pass', {
    detail: `${url} (${served.ms.toFixed(0)} ms)`,
  });
}

/** Istio's cluster id the chart gives the gateway: `<domain with dashes>-<adler32 of the UUID>`. */
export function istioClusterId(trustDomain: string, clusterUUID: string): string {
  return `${trustDomain.replaceAll('.', '-')}-${adler32(clusterUUID)}`;
}

/** Adler-32 as Sprig's `adler32sum` prints it (decimal). */
export function adler32(input: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(input, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** istiod's settings the federation depends on (README "Configuration"); skipped without istiod. */
export function checkIstiod(snapshot: ClusterSnapshot, view: LocalView): CheckResult[] {
  const read = snapshot.istiodDeployments;
  if (!read.ok) {
    return [
      result('istiod', ISTIOD, 'istiod settings', 'warn', {
        detail: `cannot list Deployments labelled app=istiod: ${read.error}`,
        hint: RBAC_HINT,
      }),
    ];
  }
  const deployments = read.value ?? [];
  if (deployments.length === 0) {
    return [
      result('istiod', ISTIOD, 'istiod settings', 'skip', {
        detail: 'no Deployment labelled app=istiod in this cluster: not verified',
      }),
    ];
  }
  const expectedId =
    view.gatewayClusterId ??
    (view.trustDomain && view.clusterUUID ? istioClusterId(view.trustDomain, view.clusterUUID) : undefined);
  const results: CheckResult[] = [];
  for (const d of deployments) {
    const name = objectName(d);
    const env = containerEnv(d, 'discovery');
    const ns = text(d, 'metadata', 'namespace');
    const check = (id: string, title: string, ok: boolean, detail: string, hint: string): void => {
      results.push(result(id, ISTIOD, `${name}: ${title}`, ok ? 'pass' : 'fail', { detail, hint }));
    };
    check(
      'istiod.shared-mesh-config',
      `SHARED_MESH_CONFIG=${MESH_CONFIG_MAP}`,
      env.SHARED_MESH_CONFIG === MESH_CONFIG_MAP,
      `SHARED_MESH_CONFIG=${env.SHARED_MESH_CONFIG ?? '(unset)'}`,
      `set env SHARED_MESH_CONFIG=${MESH_CONFIG_MAP} on istiod's discovery container: peers' root CAs reach istiod only through it`,
    );
    if (ns !== NAMESPACE) {
      results.push(
        result('istiod.namespace', ISTIOD, `${name}: runs in ${NAMESPACE}`, 'warn', {
          detail: `namespace ${ns ?? '?'}`,
          hint: `istiod reads SHARED_MESH_CONFIG from its own namespace; the module renders it in ${NAMESPACE}`,
        }),
      );
    }
    check(
      'istiod.multiroot',
      'ISTIO_MULTIROOT_MESH=true',
      env.ISTIO_MULTIROOT_MESH === 'true',
      `ISTIO_MULTIROOT_MESH=${env.ISTIO_MULTIROOT_MESH ?? '(unset)'}`,
      'set env ISTIO_MULTIROOT_MESH=true on istiod: without it istiod ignores the peers\u2019 roots (caCertificates)',
    );
    check(
      'istiod.cluster-id',
      `CLUSTER_ID matches the module's cluster id`,
      expectedId !== undefined && env.CLUSTER_ID === expectedId,
      `CLUSTER_ID=${env.CLUSTER_ID ?? '(unset, Kubernetes)'}, module: ${expectedId ?? '(unknown)'}`,
      `set env CLUSTER_ID=${expectedId ?? '<cluster domain with dashes>-<adler32 of the cluster UUID>'} on istiod: otherwise it refuses the gateway's xDS connection and certificate requests`,
    );
  }
  return results;
}

export function localChecks(
  snapshot: ClusterSnapshot,
  view: LocalView,
  served: ServedDocument | undefined,
): CheckResult[] {
  return [
    checkCrd(snapshot),
    checkSettings(snapshot),
    checkIdentity(snapshot, view),
    checkExporterReady(snapshot),
    checkServedPublicDocument(view, served),
    ...checkIstiod(snapshot, view),
  ];
}
