import { parse as parseYaml } from 'yaml';
import { checkExporterReady, checkServedPublicDocument, type ServedDocument } from './exporter';
import { checkIstiod } from './istiod';
import { result, type CheckResult } from './result';
import {
  at,
  containerEnv,
  CRD_NAME,
  DOCUMENTS_SECRET,
  KEYPAIR_SECRET,
  list,
  MODULE,
  RBAC_HINT,
  readError,
  NAMESPACE,
  OPERATOR_CONFIGMAP,
  OPERATOR_NAMESPACE,
  parseJsonRecord,
  secretData,
  text,
  type ClusterSnapshot,
} from './snapshot';

/**
 * The checks of this cluster's own side: CRD, settings, identity (exporter: exporter.ts, istiod:
 * istiod.ts).
 * Pure: a snapshot (and the exporter's served document) in, result records out.
 */

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
