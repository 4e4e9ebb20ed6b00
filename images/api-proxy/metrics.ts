import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { REVOCATION_REASONS } from './in-flight';

const PREFIX = 'd8_istio_api_proxy_';

/** The api-proxy's Prometheus metrics; every label has a small, fixed set of values. */
export class ProxyMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: `${PREFIX}requests_total`,
    help: 'Requests by verb (discovery, get, list, watch, empty-secrets, refused, internal) and status code.',
    labelNames: ['verb', 'code'] as const,
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: `${PREFIX}auth_failures_total`,
    help: 'Refused bearer tokens by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly policyRefusals = new Counter({
    name: `${PREFIX}policy_refusals_total`,
    help: 'Authenticated requests refused by the method/path policy, by status code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: `${PREFIX}upstream_errors_total`,
    help: 'Requests that failed to reach the apiserver or broke while streaming.',
    registers: [this.registry],
  });

  readonly activeWatches = new Gauge({
    name: `${PREFIX}active_watches`,
    help: "Watch streams open right now (proxied, and the empty Secrets view's own).",
    registers: [this.registry],
  });

  readonly revokedRequests = new Counter({
    name: `${PREFIX}revoked_requests_total`,
    help: 'In-flight requests (watches above all) ended because their peer was removed, its key changed or their token expired.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly peers = new Gauge({
    name: `${PREFIX}known_peers`,
    help: 'Multicluster peers whose tokens are accepted.',
    registers: [this.registry],
  });

  readonly peerReloads = new Counter({
    name: `${PREFIX}peer_reloads_total`,
    help: 'Loads of the multicluster peers file by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly tokenReloads = new Gauge({
    name: `${PREFIX}service_account_token_reads`,
    help: 'Times the service-account token file was (re-)read.',
    registers: [this.registry],
  });

  private readonly children = new Map<string, { inc(): void }>();

  constructor({ processMetrics = true }: { processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    this.peerReloads.inc({ result: 'success' }, 0);
    this.peerReloads.inc({ result: 'failure' }, 0);
    for (const reason of REVOCATION_REASONS) this.revokedRequests.inc({ reason }, 0);
  }

  countRequest(verb: string, code: number): void {
    const key = `${verb} ${code}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.requests.labels({ verb, code: String(code) });
      this.children.set(key, child);
    }
    child.inc();
  }
}
