import { signPeerToken, TOKEN_TTL_SECONDS } from '../federation/identity/jwt';
import { METADATA_PATHS, metadataUrl } from '../federation/wire/documents';

/**
 * `check token --peer NAME`: a ready-to-run request for the peer's private document with a
 * fresh token of ours, for debugging by hand. POSIX shell; the CA (spec.metadata.ca) is
 * written next to it by a here-document.
 */

/** Single-quoted for POSIX shells. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export interface CurlRequest {
  peerName: string;
  metadataEndpoint: string;
  token: string;
  ca?: string | undefined;
  insecureSkipVerify?: boolean | undefined;
}

/** An end marker for a here-document of `text`: one that occurs nowhere in it. */
export function hereDocMarker(text: string): string {
  let marker = 'PEM';
  for (let i = 1; text.includes(marker); i++) marker = `PEM_${i}`;
  return marker;
}

export function curlCommand(request: CurlRequest): string {
  const url = metadataUrl(request.metadataEndpoint, METADATA_PATHS.private);
  const lines = [`# expires in ${TOKEN_TTL_SECONDS} s; 200 = the peer accepts us, 401 = it does not know us`];
  const args = ['curl', '-sS', '--max-time', '10', '-w', shellQuote('\\nHTTP %{http_code}\\n')];
  const ca = request.ca?.trim();
  if (ca) {
    // Only [a-zA-Z0-9._-] in the name: safe inside double quotes, where $TMPDIR expands.
    const file = `"\${TMPDIR:-/tmp}/${request.peerName.replace(/[^a-zA-Z0-9._-]/g, '_')}-metadata-ca.pem"`;
    lines.push(`cat > ${file} <<'${hereDocMarker(ca)}'`, ca, hereDocMarker(ca));
    args.push('--cacert', file);
  } else if (request.insecureSkipVerify) {
    args.push('--insecure');
  }
  args.push('-H', shellQuote(`Authorization: Bearer ${request.token}`), shellQuote(url));
  lines.push(args.join(' '));
  return lines.join('\n') + '\n';
}

export async function signedCurl(options: {
  peerName: string;
  metadataEndpoint: string;
  ca?: string | undefined;
  insecureSkipVerify?: boolean | undefined;
  privateKeyPem: string;
  peerClusterUUID: string;
  ourClusterUUID: string;
  now?: Date;
}): Promise<string> {
  const token = await signPeerToken({
    privateKeyPem: options.privateKeyPem,
    audience: options.peerClusterUUID,
    subject: options.ourClusterUUID,
    ...(options.now ? { now: options.now } : {}),
  });
  return curlCommand({
    peerName: options.peerName,
    metadataEndpoint: options.metadataEndpoint,
    token,
    ca: options.ca,
    insecureSkipVerify: options.insecureSkipVerify,
  });
}
