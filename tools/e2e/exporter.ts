import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeServerPki } from '../../tests/fetch/certs';
import { httpGet } from './http';
import { ManagedProcess } from './processes';
import { EXPORTER_BINARY } from './tools';
import { freePort, lostBindRace, pollUntil } from './wait';

/**
 * One cluster's metadata exporter as a local process (no kubelet here): serves HTTPS on
 * 127.0.0.1 from the documents directory the harness keeps in sync with the rendered
 * Secrets. The CA of its serving certificate is what peers put in spec.metadata.ca.
 */
export class Exporter {
  private proc: ManagedProcess | undefined;
  readonly caPem: string;
  /** Its serving certificate, so an impostor on the same port looks like it to peers. */
  readonly serverCertificate: { certPem: string; keyPem: string };
  private readonly certFile: string;
  private readonly keyFile: string;
  port = 0;
  starts = 0;

  constructor(
    private readonly name: string,
    private readonly workDir: string,
    readonly documentsDir: string,
    private readonly binary = EXPORTER_BINARY,
  ) {
    const pki = makeServerPki(`${name} metadata-exporter`);
    this.caPem = pki.ca.certPem;
    this.serverCertificate = pki.server;
    this.certFile = join(workDir, 'exporter.crt');
    this.keyFile = join(workDir, 'exporter.key');
    writeFileSync(this.certFile, pki.server.certPem);
    writeFileSync(this.keyFile, pki.server.keyPem, { mode: 0o600 });
  }

  /** What an IstioFederation in another cluster puts in spec.metadataEndpoint. */
  get endpoint(): string {
    return `https://127.0.0.1:${this.port}/metadata/`;
  }

  get running(): boolean {
    return this.proc?.alive ?? false;
  }

  /**
   * Starts (or restarts on the same port, so peers' endpoints stay valid) and waits for
   * /healthz. The first start retries with another port if it lost a bind race.
   */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    const portChosenHere = !this.port;
    for (let attempt = 1; ; attempt++) {
      if (!this.port) this.port = await freePort();
      try {
        return await this.startOnce(timeoutMs);
      } catch (error) {
        await this.proc?.stop();
        if (!portChosenHere || attempt >= 3 || !lostBindRace(this.logTail(20))) throw error;
        this.port = 0;
      }
    }
  }

  private async startOnce(timeoutMs: number): Promise<void> {
    const proc = ManagedProcess.start({
      name: `${this.name} metadata-exporter`,
      command: this.binary,
      args: [
        '--documents-dir',
        this.documentsDir,
        '--listen',
        `127.0.0.1:${this.port}`,
        '--tls-cert',
        this.certFile,
        '--tls-key',
        this.keyFile,
        // kubelet refreshes Secret volumes within about a minute; the harness copies them at
        // once, so the exporter polls its directory every second to keep convergence short.
        '--reload-interval',
        '1',
      ],
      logFile: join(this.workDir, 'metadata-exporter.log'),
    });
    this.proc = proc;
    this.starts++;
    await pollUntil(
      async () => {
        const res = await httpGet(`https://127.0.0.1:${this.port}/healthz`, { ca: this.caPem });
        return res.status === 200 ? true : undefined;
      },
      {
        what: `${this.name} metadata-exporter healthy on 127.0.0.1:${this.port}`,
        timeoutMs,
        abortIf: () => (proc.alive ? undefined : proc.describeExit()),
        describe: () => proc.logTail(20),
      },
    );
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }

  /** GET a path of its metadata tree (public documents need no token). */
  get(path: string): Promise<{ status: number; body: string }> {
    return httpGet(`https://127.0.0.1:${this.port}/metadata${path}`, { ca: this.caPem });
  }

  logTail(lines = 30): string {
    return this.proc?.logTail(lines) ?? '(exporter not started)';
  }
}
