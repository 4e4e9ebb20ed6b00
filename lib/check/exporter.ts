import { isRecord } from '../util/guards';
import type { LocalView } from './local';
import { result, type CheckResult } from './result';
import {
  at,
  DOCUMENTS_SECRET,
  MODULE,
  NAMESPACE,
  RBAC_HINT,
  readError,
  type ClusterSnapshot,
} from './snapshot';

/** The checks of our metadata exporter: ready, and serving the public document we rendered. */

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
