import { request, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { errorText } from '../util/errors';
import {
  CRD_NAME,
  DOCUMENTS_SECRET,
  IMPORTED_LABEL,
  KEYPAIR_SECRET,
  list,
  NAMESPACE,
  OPERATOR_CONFIGMAP,
  OPERATOR_NAMESPACE,
  type ClusterSnapshot,
  type Read,
} from './snapshot';

/**
 * Reads what `check` needs from the API server with the admin's kubeconfig (or in-cluster
 * credentials): @kubernetes/client-node resolves the kubeconfig, context and credentials
 * (tokens, client certificates, exec plugins); the reads are plain GETs of resource paths,
 * like `kubectl get --raw`, bounded in time and size.
 */

const TIMEOUT_MS = 10_000;
const MAX_BYTES = 16 * 1024 * 1024;

export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
}

export class KubeReader {
  private constructor(private readonly config: KubeConfig) {}

  static load(options: KubeOptions): KubeReader {
    const config = new KubeConfig();
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
    if (options.context) config.setCurrentContext(options.context);
    if (!config.getCurrentCluster()) throw new Error('no cluster in the kubeconfig (or its current context)');
    return new KubeReader(config);
  }

  get server(): string {
    return this.config.getCurrentCluster()?.server ?? '?';
  }

  /** GET a path: the object, undefined on 404, or why not. */
  async get<T = unknown>(path: string): Promise<Read<T>> {
    let options: RequestOptions;
    let url: URL;
    try {
      url = new URL(path, this.server);
      options = { method: 'GET', headers: { Accept: 'application/json' } };
      await this.config.applyToHTTPSOptions(options);
    } catch (error) {
      return { ok: false, error: errorText(error) };
    }
    const send = url.protocol === 'http:' ? httpRequest : request;
    return new Promise((resolve) => {
      let settled = false;
      const done = (read: Read<T>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(read);
      };
      const req = send(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES) {
            req.destroy();
            done({ ok: false, error: `GET ${path}: response over ${MAX_BYTES} bytes` });
          } else chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 404) return done({ ok: true, value: undefined });
          if (status !== 200) {
            let message = body.slice(0, 300);
            try {
              message = (JSON.parse(body) as { message?: string }).message ?? message;
            } catch {
              // not JSON: the text itself
            }
            return done({ ok: false, status, error: `HTTP ${status}: ${message}` });
          }
          try {
            done({ ok: true, value: JSON.parse(body) as T });
          } catch {
            done({ ok: false, error: `GET ${path}: the response is not JSON` });
          }
        });
        res.on('error', (error) => done({ ok: false, error: errorText(error) }));
      });
      const timer = setTimeout(() => {
        req.destroy();
        done({ ok: false, error: `GET ${path}: no answer within ${TIMEOUT_MS} ms` });
      }, TIMEOUT_MS);
      req.on('error', (error) => done({ ok: false, error: `GET ${path}: ${errorText(error)}` }));
      req.end();
    });
  }

  async list(path: string): Promise<Read<unknown[]>> {
    const read = await this.get<{ items?: unknown }>(path);
    if (!read.ok) return read;
    return { ok: true, value: list(read.value?.items) };
  }

  async version(): Promise<string> {
    const read = await this.get<{ gitVersion?: string }>('/version');
    if (!read.ok) throw new Error(read.error);
    return `Kubernetes ${read.value?.gitVersion ?? '?'}`;
  }

  /** Whether an API group/version serves a resource (e.g. ModuleConfig only exists under Deckhouse). */
  async serves(groupVersion: string, plural: string): Promise<boolean> {
    const read = await this.get<{ resources?: { name?: string }[] }>(`/apis/${groupVersion}`);
    return read.ok && (read.value?.resources ?? []).some((r) => r.name === plural);
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const ns = `/api/v1/namespaces/${NAMESPACE}`;
    const apps = `/apis/apps/v1/namespaces/${NAMESPACE}`;
    const hasModuleConfig = await this.serves('deckhouse.io/v1alpha1', 'moduleconfigs');
    const selector = (s: string) => `?labelSelector=${encodeURIComponent(s)}`;
    const [
      crd,
      moduleConfig,
      operatorConfigMap,
      exporterDeployment,
      exporterIngress,
      documentsSecret,
      keypairSecret,
      gatewayDeployment,
      istiodDeployments,
      federations,
      serviceEntries,
    ] = await Promise.all([
      this.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`),
      hasModuleConfig ? this.get('/apis/deckhouse.io/v1alpha1/moduleconfigs/istio') : undefined,
      this.get(`/api/v1/namespaces/${OPERATOR_NAMESPACE}/configmaps/${OPERATOR_CONFIGMAP}`),
      this.get(`${apps}/deployments/metadata-exporter`),
      this.get(`/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses/metadata-exporter`),
      this.get(`${ns}/secrets/${DOCUMENTS_SECRET}`),
      this.get(`${ns}/secrets/${KEYPAIR_SECRET}`),
      this.get(`${apps}/deployments/ingressgateway`),
      this.list(`/apis/apps/v1/deployments${selector('app=istiod')}`),
      this.list('/apis/deckhouse.io/v1alpha1/istiofederations'),
      this.list(
        `/apis/networking.istio.io/v1/namespaces/${NAMESPACE}/serviceentries${selector(IMPORTED_LABEL)}`,
      ),
    ]);
    return {
      crd,
      moduleConfig,
      operatorConfigMap,
      exporterDeployment,
      exporterIngress,
      documentsSecret,
      keypairSecret,
      gatewayDeployment,
      istiodDeployments,
      federations,
      serviceEntries,
    };
  }
}
