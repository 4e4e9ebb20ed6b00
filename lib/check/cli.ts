import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { fetchDocument } from '../federation/fetch/transport';
import { METADATA_PATHS, metadataUrl } from '../federation/wire/documents';
import { checkPublicDocument as validatePublicDocument } from '../federation/wire/validate';
import { parseJsonBody } from '../federation/wire/validate';
import { errorText } from '../util/errors';
import { signedCurl } from './curl';
import { KubeReader } from './kube';
import { localView } from './local';
import { readPeer } from './peer';
import { renderJson, renderText } from './render';
import { exitCode } from './result';
import { parseConnectTo } from './args';
import { runChecks, type ConnectTo } from './run';
import type { CliIo } from '../hook-sdk/cli';

/**
 * `istio-federation check [...]` and `istio-federation check token --peer NAME`. Loaded by
 * hooks/main.ts only for these commands (with @kubernetes/client-node), so hook runs do not
 * pay for it. Exit codes: 0 all checks passed (warnings allowed), 1 a check failed,
 * 2 usage error.
 */

interface CommonOptions {
  kubeconfig?: string;
  context?: string;
}

interface CheckFlags extends CommonOptions {
  peer?: string;
  json?: boolean;
  metadataUrl?: string;
  metadataCa?: string;
  connectTo: ConnectTo[];
  timeout: number;
  colour?: boolean;
}

function common(command: Command): Command {
  return command
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context');
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${errorText(error)}`, { cause: error });
  }
}

async function check(flags: CheckFlags, io: CliIo): Promise<number> {
  const kube = KubeReader.load(flags);
  const results = await runChecks(
    { apiServer: kube.server, version: () => kube.version(), snapshot: () => kube.snapshot() },
    {
      ...(flags.peer !== undefined ? { peer: flags.peer } : {}),
      ...(flags.metadataUrl ? { metadataUrl: flags.metadataUrl } : {}),
      ...(flags.metadataCa ? { metadataCa: readText(flags.metadataCa, '--metadata-ca') } : {}),
      connectTo: flags.connectTo,
      probeTimeouts: { connectTimeoutMs: flags.timeout, handshakeTimeoutMs: flags.timeout },
    },
  );
  io.stdout(flags.json ? renderJson(results) : renderText(results, { colour: flags.colour === true }));
  return exitCode(results);
}

async function token(flags: CommonOptions & { peer: string }, io: CliIo): Promise<number> {
  const kube = KubeReader.load(flags);
  const snapshot = await kube.snapshot();
  const view = localView(snapshot);
  if (!view.clusterUUID || !view.authnPrivateKey) {
    io.stderr(
      'cannot sign: our clusterUUID or key pair (Secret d8-istio/d8-remote-authn-keypair) is not readable\n',
    );
    return 1;
  }
  const raw = (snapshot.federations.ok ? (snapshot.federations.value ?? []) : []).find(
    (f) => readPeer(f, view.trustDomain ?? '')?.name === flags.peer,
  );
  const peer = raw ? readPeer(raw, view.trustDomain ?? '') : undefined;
  if (!peer) {
    io.stderr(`no IstioFederation named ${flags.peer}\n`);
    return 1;
  }
  // The audience is the peer's clusterUUID: from its public document now, else from status.
  const publicUrl = metadataUrl(peer.metadataEndpoint, METADATA_PATHS.public);
  const fetched = await fetchDocument({ url: publicUrl, tls: peer.tls });
  let audience = peer.status.metadataCache?.public?.clusterUUID;
  if (fetched.ok) {
    const parsed = parseJsonBody(fetched.body);
    const doc = parsed.ok ? validatePublicDocument(parsed.value, new Date()) : undefined;
    if (doc?.ok) audience = doc.value.clusterUUID;
  } else {
    io.stderr(`# note: ${fetched.message}; using the clusterUUID cached in status\n`);
  }
  if (!audience) {
    io.stderr(
      `the peer's clusterUUID is unknown: its public document cannot be fetched and status has none\n`,
    );
    return 1;
  }
  io.stdout(
    await signedCurl({
      peerName: peer.name,
      metadataEndpoint: peer.metadataEndpoint,
      ca: peer.tls.ca,
      insecureSkipVerify: peer.tls.insecureSkipVerify,
      privateKeyPem: view.authnPrivateKey,
      peerClusterUUID: audience,
      ourClusterUUID: view.clusterUUID,
    }),
  );
  return 0;
}

/** Runs `check ...` (argv without the leading `check`); returns the exit code. */
export async function runCheckCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = common(
    new Command('istio-federation check')
      .description(
        'verify the federation of this cluster and its peers; one line per check, hints on failure',
      )
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      // `check --peer` and `check token --peer` are different options.
      .enablePositionalOptions()
      .option('--peer <name>', 'check only this IstioFederation')
      .option('--json', 'print the results as JSON')
      .option('--metadata-url <url>', 'our metadata endpoint (default: https://<Ingress host>/metadata/)')
      .option('--metadata-ca <file>', 'PEM CA to trust for --metadata-url, besides the system roots')
      .option(
        '--connect-to <HOST:PORT:HOST2:PORT2>',
        'dial HOST2:PORT2 for the peer gateway HOST:PORT (as curl; repeatable)',
        parseConnectTo,
        [],
      )
      .addOption(
        new Option('--timeout <ms>', 'gateway dial: TCP connect and TLS handshake timeout each')
          .default(3000)
          .argParser((v) => {
            const n = Number(v);
            if (!Number.isInteger(n) || n < 1 || n > 60_000) throw new Error('--timeout: 1..60000 ms');
            return n;
          }),
      )
      .option('--colour', 'colour the PASS/FAIL marks'),
  ).action(async (flags: CheckFlags) => {
    code = await check(flags, io);
  });
  common(
    program
      .command('token')
      .description(
        "print a ready-to-run curl request for a peer's private document, with a fresh token of ours",
      )
      .requiredOption('--peer <name>', 'the IstioFederation'),
  ).action(async (flags: CommonOptions & { peer: string }) => {
    code = await token(flags, io);
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.stderr(`check failed: ${errorText(error)}\n`);
    return 2;
  }
}
