// The Secret source: list + watch of ONE Secret by name (field selector metadata.name), so
// the exporter needs only get/list/watch on that Secret in its own namespace.
import { ApiException, CoreV1Api, KubeConfig, Watch, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../../lib/hook-sdk/logger';
import type { ExporterMetrics } from './metrics';
import { retryDelayMs, DEFAULT_BACKOFF, type Backoff, type SecretRef } from './secret-documents';

export interface SecretWatchHandlers {
  /** The Secret as listed or as an ADDED/MODIFIED event delivered it. */
  onSecret(secret: V1Secret): void;
  /** The Secret is gone: deleted while watched, or absent when listed. */
  onAbsent(reason: 'deleted' | 'not found'): void;
}

export interface SecretWatchOptions {
  backoff?: Backoff;
  /** Asked of the API server for each watch; it ends the watch then and we resume it. */
  watchTimeoutSeconds?: number;
  /** Bound for a list request and for a watch to start streaming. */
  requestTimeoutMs?: number;
  metrics?: Pick<ExporterMetrics, 'secretLists' | 'secretWatchEnds'>;
}

/** Out-of-cluster: a kubeconfig file; in-cluster: the service account's token (re-read as kubelet rotates it) and CA. */
export function loadKubeConfig(kubeconfigFile: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigFile) kc.loadFromFile(kubeconfigFile);
  else kc.loadFromCluster();
  return kc;
}

type WatchEnd =
  | { kind: 'closed'; events: number } // the server (or our idle guard) ended it: resume from the last version
  | { kind: 'expired' } // 410 Gone: our resourceVersion is too old, list again
  | { kind: 'failed'; error: string };

function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as { message?: unknown } | string | undefined;
    const message = typeof body === 'object' && typeof body?.message === 'string' ? body.message : '';
    return `HTTP ${error.code}${message ? `: ${message.slice(0, 300)}` : ''}`;
  }
  const code = (error as { statusCode?: unknown }).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'number' ? `HTTP ${code}: ${message.slice(0, 300)}` : message.slice(0, 300);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Lists the Secret, then watches it from the listed resourceVersion. A watch that ends is
 * resumed from the last version seen; an expired version (410) or any error leads to a new
 * list after a bounded, jittered backoff (DEFAULT_BACKOFF: 0.25 s doubling to 30 s), reset
 * once a watch has worked (an event, or a second open). A deleted Secret is reported once; the caller keeps serving what it had.
 */
export class SecretWatcher {
  private stopped = false;
  private current: AbortController | undefined;
  private wake: (() => void) | undefined;
  private readonly api: CoreV1Api;
  private readonly watch: Watch;
  private readonly backoff: Backoff;
  private readonly watchTimeoutSeconds: number;
  private readonly requestTimeoutMs: number;
  private readonly fieldSelector: string;
  private loop: Promise<void> | undefined;
  private readonly metrics: SecretWatchOptions['metrics'];

  constructor(
    kubeConfig: KubeConfig,
    private readonly ref: SecretRef,
    private readonly handlers: SecretWatchHandlers,
    private readonly logger: Logger,
    options: SecretWatchOptions = {},
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
    this.watch = new Watch(kubeConfig);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.fieldSelector = `metadata.name=${ref.name}`;
    this.metrics = options.metrics;
    for (const result of ['success', 'failure']) this.metrics?.secretLists.inc({ result }, 0);
    for (const reason of ['closed', 'expired', 'failed']) this.metrics?.secretWatchEnds.inc({ reason }, 0);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the current watch and the loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    // Failures in a row; only a watch that worked resets it, so a list that succeeds while
    // every watch fails (e.g. RBAC without `watch`) still backs off to the cap.
    let failures = 0;
    while (!this.stopped) {
      let resourceVersion: string;
      try {
        resourceVersion = await this.list();
        this.metrics?.secretLists.inc({ result: 'success' });
      } catch (error) {
        if (this.stopped) return;
        this.metrics?.secretLists.inc({ result: 'failure' });
        failures++;
        await this.retryAfter(failures, 'list failed', describeError(error));
        continue;
      }
      // Watch from the listed version; resume after a normal end, list again otherwise.
      let version = resourceVersion;
      while (!this.stopped) {
        const started = Date.now();
        const end = await this.watchFrom(version, (seen) => (version = seen));
        if (this.stopped) return;
        this.metrics?.secretWatchEnds.inc({ reason: end.kind });
        if (end.kind === 'closed' && (end.events > 0 || Date.now() - started >= 1000)) {
          failures = 0;
          continue;
        }
        failures++;
        if (end.kind === 'expired') {
          this.logger.info('watch expired, listing again', { secret: this.describe() });
          break;
        }
        // An error, or a watch closed at once with nothing in it: back off, then list again.
        await this.retryAfter(
          failures,
          'watch failed',
          end.kind === 'failed' ? end.error : 'closed at once by the server',
        );
        break;
      }
    }
  }

  private describe(): string {
    return `${this.ref.namespace}/${this.ref.name}`;
  }

  private async retryAfter(failures: number, msg: string, error: string): Promise<void> {
    if (this.stopped) return;
    const delayMs = retryDelayMs(failures, this.backoff);
    this.logger.warn(msg, { secret: this.describe(), error, retryInMs: delayMs, failures });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** Lists the one Secret; returns the list's resourceVersion to watch from. */
  private async list(): Promise<string> {
    const list = await withTimeout(
      this.api.listNamespacedSecret({ namespace: this.ref.namespace, fieldSelector: this.fieldSelector }),
      this.requestTimeoutMs,
      'list',
    );
    const secret = list.items.find((item) => item.metadata?.name === this.ref.name);
    if (secret) this.handlers.onSecret(secret);
    else this.handlers.onAbsent('not found');
    const version = list.metadata?.resourceVersion;
    if (!version) throw new Error('list without a resourceVersion');
    return version;
  }

  private watchFrom(resourceVersion: string, seen: (version: string) => void): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let events = 0;
      let ended: WatchEnd | undefined;
      let idle: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd): void => {
        ended ??= end;
        clearTimeout(idle);
        this.current?.abort();
        resolve(ended);
      };
      // A watch the server should have ended long ago (half-open connection): give it up.
      const armIdleGuard = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => finish({ kind: 'closed', events }), (this.watchTimeoutSeconds + 30) * 1000);
      };
      armIdleGuard();
      const onEvent = (type: string, object: unknown): void => {
        if (ended) return;
        armIdleGuard();
        const metadata = (object as { metadata?: { name?: string; resourceVersion?: string } }).metadata;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
            events++;
            if (metadata?.resourceVersion) seen(metadata.resourceVersion);
            if (metadata?.name === this.ref.name) this.handlers.onSecret(object as V1Secret);
            return;
          case 'DELETED':
            events++;
            if (metadata?.resourceVersion) seen(metadata.resourceVersion);
            if (metadata?.name === this.ref.name) this.handlers.onAbsent('deleted');
            return;
          case 'BOOKMARK':
            if (metadata?.resourceVersion) seen(metadata.resourceVersion);
            return;
          case 'ERROR': {
            const status = object as { code?: number; message?: string };
            finish(
              status.code === 410
                ? { kind: 'expired' }
                : { kind: 'failed', error: `watch error ${status.code ?? '?'}: ${status.message ?? ''}` },
            );
            return;
          }
          default:
            return;
        }
      };
      const done = (error: unknown): void => {
        if (this.stopped) return finish({ kind: 'closed', events });
        finish(
          error && (error as { name?: string }).name !== 'AbortError'
            ? { kind: 'failed', error: describeError(error) }
            : { kind: 'closed', events },
        );
      };
      withTimeout(
        this.watch.watch(
          `/api/v1/namespaces/${encodeURIComponent(this.ref.namespace)}/secrets`,
          {
            fieldSelector: this.fieldSelector,
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: this.watchTimeoutSeconds,
          },
          onEvent,
          done,
        ),
        this.requestTimeoutMs,
        'watch',
      ).then(
        (controller) => {
          this.current = controller;
          if (ended || this.stopped) controller.abort();
        },
        (error: unknown) => finish({ kind: 'failed', error: describeError(error) }),
      );
    });
  }
}
