import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

const PREFIX = 'd8_istio_metadata_exporter_';

/** The exporter's own Prometheus metrics; every label has a small, fixed set of values. */
export class ExporterMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: `${PREFIX}requests_total`,
    help: 'HTTP requests by route and status code.',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: `${PREFIX}auth_failures_total`,
    help: 'Refused requests to the private document by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly reloads = new Counter({
    name: `${PREFIX}document_reloads_total`,
    help: 'Attempts to load the document set (directory or Secret) by result (success or failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly lastReload = new Gauge({
    name: `${PREFIX}document_last_reload_timestamp_seconds`,
    help: 'Unix time of the last successful document set load.',
    registers: [this.registry],
  });

  readonly documentsValid = new Gauge({
    name: `${PREFIX}documents_loaded`,
    help: '1 while a valid document set is being served, else 0.',
    registers: [this.registry],
  });

  readonly rejectedRemotes = new Gauge({
    name: `${PREFIX}rejected_remote_peers`,
    help: 'Remote peers left out of the last loaded set because their entry is invalid.',
    registers: [this.registry],
  });

  /** --documents-secret only: lists of the Secret by result (success or failure). */
  readonly secretLists = new Counter({
    name: `${PREFIX}secret_lists_total`,
    help: 'Lists of the documents Secret by result (success or failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** --documents-secret only: ended watches; "closed" ones are resumed, the others relisted. */
  readonly secretWatchEnds = new Counter({
    name: `${PREFIX}secret_watch_ends_total`,
    help: 'Ended watches of the documents Secret by reason (closed: resumed; expired, failed: listed again).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** prom-client's label lookup is the hot path's main cost; children are kept per key. */
  private readonly requestChildren = new Map<string, { inc(): void }>();

  constructor({ processMetrics = true }: { processMetrics?: boolean } = {}) {
    // process_* and nodejs_* (CPU, memory, file descriptors, event-loop lag).
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    this.documentsValid.set(0);
  }

  countRequest(route: string, code: number): void {
    const key = `${route} ${code}`;
    let child = this.requestChildren.get(key);
    if (!child) {
      child = this.requests.labels({ route, code: String(code) });
      this.requestChildren.set(key, child);
    }
    child.inc();
  }
}
