import { request, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A small JSON client for one kube-apiserver on 127.0.0.1, bounded in request time.
 * @kubernetes/client-node holds the connection as a KubeConfig and supplies the TLS trust
 * and credentials of every request (applyToHTTPSOptions: its CA, bearer token, agent);
 * requests are node:https, which Node (jest) and Bun (the demo) both run.
 *
 * Requests stay by path: callers name resources by path (subresources, dryRun, label
 * selectors, a Table Accept header) and hand plain JSON. client-node's KubernetesObjectApi
 * would route by apiVersion/kind through discovery and round-trip bodies through its typed
 * models, which drops what the models do not spell (e.g. `x-kubernetes-*` schema keys of
 * a CRD sent as JSON) and turns timestamps into Dates. The harness does not watch.
 */

export type JsonObject = Record<string, unknown>;

export interface KubeObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & JsonObject;
}

export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 600)}`);
  }
}

export interface ApiConnection {
  server: string;
  caPem: string;
  token: string;
}

export interface RawResponse {
  status: number;
  body: string;
}

const FIELD_MANAGER = 'istio-federation-e2e';

/** URL path of a resource (collection when `name` is absent). Plural names are given by the caller. */
export function resourcePath(
  apiVersion: string,
  plural: string,
  options: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = options.namespace ? `/namespaces/${options.namespace}` : '';
  const name = options.name ? `/${options.name}` : '';
  const sub = options.subresource ? `/${options.subresource}` : '';
  return `${base}${ns}/${plural}${name}${sub}`;
}

export class KubeApi {
  private readonly config = new KubeConfig();

  constructor(
    readonly connection: ApiConnection,
    private readonly timeoutMs = 15_000,
  ) {
    this.config.loadFromClusterAndUser(
      {
        name: 'e2e',
        server: connection.server,
        caData: Buffer.from(connection.caPem).toString('base64'),
        skipTLSVerify: false,
      },
      { name: 'e2e-admin', token: connection.token },
    );
  }

  async raw(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<RawResponse> {
    const url = new URL(path, this.config.getCurrentCluster()!.server);
    const options: RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body).toString() } : {}),
        ...headers,
      },
      timeout: this.timeoutMs,
    };
    await this.config.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  private async json<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const res = await this.raw(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { 'Content-Type': contentType },
    );
    if (res.status < 200 || res.status >= 300) throw new ApiError(method, path, res.status, res.body);
    return JSON.parse(res.body) as T;
  }

  /** The object, or undefined when it does not exist. */
  async get<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.json<T>('GET', path);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list<T = KubeObject>(path: string, labelSelector?: string): Promise<T[]> {
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const result = await this.json<{ items: T[] }>('GET', `${path}${query}`);
    return result.items;
  }

  create<T = KubeObject>(collectionPath: string, object: KubeObject): Promise<T> {
    return this.json<T>('POST', collectionPath, object);
  }

  /** Server-side apply (create or update what this harness owns). */
  apply<T = KubeObject>(objectPath: string, object: KubeObject): Promise<T> {
    return this.json<T>(
      'PATCH',
      `${objectPath}?fieldManager=${FIELD_MANAGER}&force=true`,
      object,
      'application/apply-patch+yaml',
    );
  }

  mergePatch<T = KubeObject>(objectPath: string, patch: JsonObject): Promise<T> {
    return this.json<T>('PATCH', objectPath, patch, 'application/merge-patch+json');
  }

  /** JSON patch, e.g. to remove one label (a key with '/' needs the ~1 escape). */
  jsonPatch<T = KubeObject>(objectPath: string, operations: readonly JsonObject[]): Promise<T> {
    return this.json<T>('PATCH', objectPath, operations, 'application/json-patch+json');
  }

  async delete(objectPath: string): Promise<void> {
    const res = await this.raw('DELETE', objectPath);
    if (res.status !== 404 && (res.status < 200 || res.status >= 300)) {
      throw new ApiError('DELETE', objectPath, res.status, res.body);
    }
  }

  /** A server-side Table (what `kubectl get` prints): printer columns and rows. */
  async table(collectionPath: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    const res = await this.raw('GET', collectionPath, undefined, {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    if (res.status !== 200) throw new ApiError('GET', collectionPath, res.status, res.body);
    const table = JSON.parse(res.body) as {
      kind?: string;
      columnDefinitions?: { name: string }[];
      rows?: { cells: unknown[] }[];
    };
    if (table.kind !== 'Table') throw new Error(`GET ${collectionPath} as Table returned ${table.kind}`);
    return {
      columns: (table.columnDefinitions ?? []).map((c) => c.name),
      rows: (table.rows ?? []).map((r) => r.cells),
    };
  }
}
