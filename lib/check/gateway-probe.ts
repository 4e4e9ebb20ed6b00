import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { errorText } from '../util/errors';

/**
 * One bounded TLS dial to a peer's federation gateway: TCP connect, then a TLS handshake
 * with a federation SNI, timed separately. The gateway (Istio, AUTO_PASSTHROUGH) routes by
 * SNI to a workload of the peer, whose certificate is issued by the peer's mesh CA; we do
 * not verify it (we hold no client certificate and the check is liveness, not trust), but
 * report who answered. Used by `check`, and written for a periodic probe hook: no global
 * state, every socket destroyed, never throws, never waits longer than its two timeouts.
 */

export interface GatewayTarget {
  address: string;
  port: number;
}

export interface ProbeOptions {
  /** The SNI to send (see federationSni); without it only TCP is dialled. */
  sni?: string;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /**
   * Dial this instead of the target (curl's `--connect-to`): the SNI and the report stay the
   * target's. For a gateway reached through a tunnel or port-forward.
   */
  dialTo?: GatewayTarget;
}

export const DEFAULT_PROBE_TIMEOUTS = { connectTimeoutMs: 3_000, handshakeTimeoutMs: 3_000 } as const;

/**
 * Where a probe ended. Alive: `handshake` (TLS completed), `tls-alert` (the far end spoke
 * TLS and refused us with an alert, e.g. certificate required: a workload behind the
 * gateway wants mTLS), `tcp` (TCP only, no SNI to send). Dead: the rest.
 */
export type ProbeStage =
  | 'handshake'
  | 'tls-alert'
  | 'tcp'
  | 'refused'
  | 'connect-timeout'
  | 'unreachable'
  | 'closed-before-tls'
  | 'handshake-timeout'
  | 'tls-error';

export interface ProbeResult {
  target: GatewayTarget;
  dialed: GatewayTarget;
  sni?: string;
  alive: boolean;
  stage: ProbeStage;
  /** TCP connect time (ms), when the connection was established. */
  connectMs?: number;
  /** TLS handshake time after connect (ms), when a TLS answer came. */
  handshakeMs?: number;
  /** Subject / SANs of the certificate the far end presented (informational, not verified). */
  peerCertificate?: { subject?: string; subjectAltName?: string; issuer?: string };
  error?: string;
}

/**
 * The SNI a remote sidecar sends through an AUTO_PASSTHROUGH gateway:
 * `outbound_.<port>_.<subset>_.<host>` with an empty subset.
 */
export function federationSni(hostname: string, port: number): string {
  return `outbound_.${port}_._.${hostname}`;
}

const ALERT_CODE = /ALERT|alert/;

function alive(stage: ProbeStage): boolean {
  return stage === 'handshake' || stage === 'tls-alert' || stage === 'tcp';
}

/** Sorts a dial error into a stage. Exported for tests. */
export function classifyDialError(error: unknown, connected: boolean): ProbeStage {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const text = errorText(error);
  if (!connected) {
    if (code === 'ECONNREFUSED') return 'refused';
    if (code === 'ETIMEDOUT') return 'connect-timeout';
    return 'unreachable';
  }
  if (ALERT_CODE.test(code) || /alert/i.test(text)) return 'tls-alert';
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    /socket disconnected|socket hang up|ECONNRESET/i.test(text)
  )
    return 'closed-before-tls';
  return 'tls-error';
}

function certificateSummary(socket: TLSSocket): ProbeResult['peerCertificate'] | undefined {
  try {
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return undefined;
    const dn = (name: unknown): string | undefined => {
      if (!name || typeof name !== 'object') return undefined;
      const text = Object.entries(name as Record<string, unknown>)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      return text || undefined;
    };
    const summary: NonNullable<ProbeResult['peerCertificate']> = {};
    const subject = dn(cert.subject);
    const issuer = dn(cert.issuer);
    if (subject) summary.subject = subject;
    if (issuer) summary.issuer = issuer;
    if (cert.subjectaltname) summary.subjectAltName = cert.subjectaltname;
    return summary;
  } catch {
    return undefined;
  }
}

/** Dials `target` once, bounded by the connect and handshake timeouts. Never throws. */
export function probeGateway(target: GatewayTarget, options: ProbeOptions = {}): Promise<ProbeResult> {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_PROBE_TIMEOUTS.connectTimeoutMs;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_PROBE_TIMEOUTS.handshakeTimeoutMs;
  const dialed = options.dialTo ?? target;
  const base: Pick<ProbeResult, 'target' | 'dialed' | 'sni'> = {
    target,
    dialed,
    ...(options.sni !== undefined ? { sni: options.sni } : {}),
  };
  return new Promise((resolve) => {
    const started = performance.now();
    let connectMs: number | undefined;
    let handshakeStarted = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let tcp: Socket | undefined;
    let tls: TLSSocket | undefined;
    const finish = (stage: ProbeStage, extra: Partial<ProbeResult> = {}): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      tls?.destroy();
      tcp?.destroy();
      resolve({
        ...base,
        alive: alive(stage),
        stage,
        ...(connectMs !== undefined ? { connectMs } : {}),
        ...extra,
      });
    };
    const arm = (ms: number, onTimeout: () => void): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(onTimeout, ms);
    };
    arm(connectTimeoutMs, () =>
      finish('connect-timeout', { error: `TCP connect timed out after ${connectTimeoutMs} ms` }),
    );
    try {
      tcp = tcpConnect({ host: dialed.address, port: dialed.port });
    } catch (error) {
      finish('unreachable', { error: errorText(error) });
      return;
    }
    tcp.once('error', (error) => {
      if (connectMs === undefined) finish(classifyDialError(error, false), { error: errorText(error) });
    });
    tcp.once('connect', () => {
      connectMs = performance.now() - started;
      if (options.sni === undefined) {
        finish('tcp');
        return;
      }
      handshakeStarted = performance.now();
      arm(handshakeTimeoutMs, () =>
        finish('handshake-timeout', {
          error: `TLS handshake timed out after ${handshakeTimeoutMs} ms (TCP connected)`,
        }),
      );
      // An IP address is not a valid SNI; the federation SNI always is a name.
      const servername = isIP(options.sni) ? undefined : options.sni;
      const socket = tlsConnect({
        socket: tcp!,
        ...(servername ? { servername } : {}),
        // Liveness, not trust: the workload's certificate is from the peer's mesh CA.
        rejectUnauthorized: false,
        ALPNProtocols: ['istio-peer-exchange', 'istio', 'h2', 'http/1.1'],
      });
      tls = socket;
      socket.once('secureConnect', () => {
        const cert = certificateSummary(socket);
        finish('handshake', {
          handshakeMs: performance.now() - handshakeStarted,
          ...(cert ? { peerCertificate: cert } : {}),
        });
      });
      socket.once('error', (error: Error) => {
        const stage = classifyDialError(error, true);
        finish(stage, {
          error: errorText(error),
          ...(stage === 'tls-alert' ? { handshakeMs: performance.now() - handshakeStarted } : {}),
        });
      });
      socket.once('close', () =>
        finish('closed-before-tls', { error: 'connection closed before TLS completed' }),
      );
    });
  });
}
