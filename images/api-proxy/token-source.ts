import { readFileSync, statSync } from 'node:fs';

/**
 * The proxy's own credential for the apiserver. A projected service-account token is
 * rotated by the kubelet (by default hourly, well before it expires), so the file is
 * re-read whenever it changed: one stat per request, a read only on change.
 */
export class TokenSource {
  private token: string | undefined;
  private seen: string | undefined;
  reloads = 0;

  constructor(
    private readonly file: string | undefined,
    private readonly staticToken?: string,
  ) {
    if (!file && !staticToken) throw new Error('a token file or a token is required');
  }

  current(): string {
    if (!this.file) return this.staticToken!;
    const stat = statSync(this.file);
    const signature = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (signature !== this.seen || this.token === undefined) {
      const token = readFileSync(this.file, 'utf8').trim();
      if (!token) throw new Error('service-account token file is empty');
      this.token = token;
      this.seen = signature;
      this.reloads++;
    }
    return this.token;
  }
}
