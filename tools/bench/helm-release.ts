// How many imported services fit Helm's release record, and how long real Helm takes to
// render 1,000 and 10,000 of them. A figure, not a test.
//   npx bun tools/bench/helm-release.ts [--peers 10] [--runs 3] [--tcp-share 0.2] [--pinned]
//
// --tcp-share: the fraction of services with a plain TCP port. istiod allows several hosts
// in one ServiceEntry only when every port is HTTP-like or TLS, so those services get one
// ServiceEntry each and cost more; the default mix (tests/helm/generate.ts) has one in five.
//
// Helm (secret storage driver, what addon-operator uses) stores a release as
// base64(gzip(json(release))) in Secret data `release`; the API server refuses Secret data
// over 1 MiB. The release JSON carries the rendered manifest, the chart (every template
// file, base64) and the values it was rendered with (`config`), so each imported service
// costs its rendered objects plus its values entry. We rebuild that JSON from the real
// `helm template` output, the chart files Helm loads (`helm package`) and the values, and
// compress it with Go's compress/gzip at BestCompression (a tiny helper built with the Go
// toolchain, as Helm does) or, without Go, with zlib level 9.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { FULL_SCENARIO, scenarioValues, TRUSTED_PEERS } from '../../tests/helm/fixtures';
import {
  helmBinary,
  helmTemplate,
  MODULE_ROOT,
  prepareValues,
  RELEASE_NAME,
  RELEASE_NAMESPACE,
  type JsonObject,
  type ModuleValues,
} from '../../tests/helm/render';
import { importedServices, peerName, PORT_SHAPES } from '../../tests/helm/generate';

/** k8s.io/api MaxSecretSize: the sum of all Secret data values. */
export const SECRET_DATA_LIMIT = 1024 * 1024;

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const PEERS = option('--peers', 10);
const RUNS = option('--runs', 3);
const TCP_SHARE = option('--tcp-share', -1);
/**
 * --pinned: every imported service pinned to its own identity (one service account per
 * service: the worst case, since hosts with different identities never share a ServiceEntry).
 */
const PINNED = args.includes('--pinned');

/** `spiffe://<domain>/ns/<namespace>/sa/<service>` for `<service>.<namespace>.svc.<domain>`. */
function ownIdentity(hostname: string): string {
  const [service, namespace, , ...domain] = hostname.split('.');
  return `spiffe://${domain.join('.')}/ns/${namespace}/sa/${service}`;
}

/** `share` of the shapes TCP-only, the rest the default's HTTP-like shapes (20 slots). */
function portShapesWithTcpShare(share: number): typeof PORT_SHAPES {
  if (share < 0) return PORT_SHAPES;
  const isTcp = (shape: (typeof PORT_SHAPES)[number]) => shape.some((p) => p.protocol === 'TCP');
  const tcp = PORT_SHAPES.filter(isTcp);
  const other = PORT_SHAPES.filter((shape) => !isTcp(shape));
  const slots = 20;
  const tcpSlots = Math.round(share * slots);
  return Array.from({ length: slots }, (_, i) =>
    i < tcpSlots ? tcp[i % tcp.length]! : other[i % other.length]!,
  );
}
const SHAPES = portShapesWithTcpShare(TCP_SHARE);

function peersValue(peers: number): JsonObject[] {
  const template = TRUSTED_PEERS[0]!;
  return Array.from({ length: peers }, (_, p) => ({
    ...template,
    name: peerName(p),
    trustDomain: `${peerName(p)}.local`,
    clusterUUID: `00000000-0000-4000-8000-${String(p).padStart(12, '0')}`,
    // A realistic root CA size (a 4096-bit RSA CA certificate is about 2 KiB of PEM).
    rootCA: `-----BEGIN CERTIFICATE-----\n${'MIIFazCCA1OgAwIBAgIU'.repeat(90)}\n-----END CERTIFICATE-----\n`,
  }));
}

export function valuesWithServices(count: number, peers = PEERS): ModuleValues {
  const values = structuredClone(scenarioValues(FULL_SCENARIO));
  const federation = (values.istio.internal as { federation: JsonObject }).federation;
  federation.trustedPeers = peersValue(peers);
  const entries = importedServices(count, peers, 42, SHAPES);
  federation.serviceEntries = PINNED
    ? entries.map((e) => ({ ...e, subjectAltNames: [ownIdentity(String(e.hostname))] }))
    : entries;
  return values;
}

// ---- the release record as Helm's storage driver encodes it ----

interface ChartFile {
  name: string;
  data: string;
}
interface LoadedChart {
  metadata: JsonObject;
  templates: ChartFile[];
  files: ChartFile[];
}

/** The files Helm loads from the module root (after .helmignore), via `helm package`. */
function loadChart(): LoadedChart {
  const dir = mkdtempSync(join(tmpdir(), 'istio-chart-'));
  try {
    execFileSync(helmBinary(), ['package', MODULE_ROOT, '-d', dir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    execFileSync('sh', ['-c', `cd "${dir}" && tar xzmf *.tgz`]);
    const listing = execFileSync('sh', ['-c', `cd "${dir}/istio" && find . -type f | sort`], {
      encoding: 'utf8',
    });
    const chart: LoadedChart = { metadata: {}, templates: [], files: [] };
    for (const path of listing.trim().split('\n')) {
      const name = path.replace(/^\.\//, '');
      const data = readFileSync(join(dir, 'istio', name)).toString('base64');
      if (name === 'Chart.yaml') chart.metadata = parse(Buffer.from(data, 'base64').toString()) as JsonObject;
      else if (name.startsWith('templates/')) chart.templates.push({ name, data });
      else chart.files.push({ name, data });
    }
    return chart;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** encoding/json: map keys sorted, HTML characters escaped. */
function goJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortKeys((v as JsonObject)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sortKeys(value)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** pkg/release.Release with its JSON field names, as `helm upgrade --install` stores it. */
function releaseJson(chart: LoadedChart, config: ModuleValues, manifest: string): string {
  const now = new Date().toISOString();
  // Struct fields keep declaration order in Go; only maps are sorted.
  const release = {
    name: RELEASE_NAME,
    info: {
      first_deployed: now,
      last_deployed: now,
      deleted: '',
      description: 'Install complete',
      status: 'deployed',
    },
    chart: {
      metadata: chart.metadata,
      lock: null,
      templates: chart.templates,
      values: {},
      schema: null,
      files: chart.files,
    },
    config: JSON.parse(goJson(config)) as unknown,
    manifest,
    version: 1,
    namespace: RELEASE_NAMESPACE,
  };
  return JSON.stringify(release).replace(
    /[<>&]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const GO_GZIP_SOURCE = `package main

// base64(gzip(stdin)) length, gzip at BestCompression: Helm's storage driver encoding.
import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"os"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write(in); err != nil {
		panic(err)
	}
	w.Close()
	fmt.Println(len(base64.StdEncoding.EncodeToString(buf.Bytes())))
}
`;

/** Builds (once) the Go helper that encodes exactly like Helm; undefined without a Go toolchain. */
function goEncoder(): string | undefined {
  const dir = join(
    process.env.ISTIO_FED_TOOLS_CACHE ?? join(homedir(), '.cache', 'istio-federation-tools'),
    'bench-helm-gzip',
  );
  const binary = join(dir, 'helm-gzip');
  if (existsSync(binary)) return binary;
  const go = ['go', '/usr/local/go/bin/go'].find((candidate) => {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!go) return undefined;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.go'), GO_GZIP_SOURCE);
  writeFileSync(join(dir, 'go.mod'), 'module helmgzip\n\ngo 1.22\n');
  execFileSync(go, ['build', '-o', binary, '.'], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, GOWORK: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
  });
  return binary;
}

interface Encoded {
  /** The figure compared with the limit: Go's encoding when available. */
  bytes: number;
  zlibBytes: number;
  goBytes?: number;
  jsonBytes: number;
  manifestBytes: number;
  configBytes: number;
}

function encodedSize(
  json: string,
  manifest: string,
  config: ModuleValues,
  encoder: string | undefined,
): Encoded {
  const zlibBytes = Math.ceil(gzipSync(json, { level: 9 }).length / 3) * 4;
  const goBytes = encoder
    ? Number(execFileSync(encoder, { input: json, encoding: 'utf8', maxBuffer: 1 << 20 }).trim())
    : undefined;
  return {
    bytes: goBytes ?? zlibBytes,
    zlibBytes,
    goBytes,
    jsonBytes: Buffer.byteLength(json),
    manifestBytes: Buffer.byteLength(manifest),
    configBytes: Buffer.byteLength(JSON.stringify(config)),
  };
}

// ---- measurements ----

async function measure(count: number, chart: LoadedChart, encoder: string | undefined): Promise<Encoded> {
  const prepared = prepareValues(valuesWithServices(count));
  const manifest = await helmTemplate(prepared);
  return encodedSize(releaseJson(chart, prepared, manifest), manifest, prepared, encoder);
}

async function renderMs(count: number): Promise<number[]> {
  const prepared = prepareValues(valuesWithServices(count));
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    await helmTemplate(prepared);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

/** Largest count whose release fits, by doubling then bisection (to 0.5 %). */
async function maxServices(
  chart: LoadedChart,
  encoder: string | undefined,
): Promise<{ fits: number; over: number }> {
  let fits = 0;
  let over = 1000;
  while ((await measure(over, chart, encoder)).bytes <= SECRET_DATA_LIMIT) {
    fits = over;
    over *= 2;
    if (over > 1_000_000) return { fits, over: Infinity };
  }
  while (over - fits > Math.max(10, fits * 0.005)) {
    const middle = Math.floor((fits + over) / 2);
    if ((await measure(middle, chart, encoder)).bytes <= SECRET_DATA_LIMIT) fits = middle;
    else over = middle;
  }
  return { fits, over };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const median = (values: number[]) => values[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const encoder = goEncoder();
  const chart = loadChart();
  console.log(`helm: ${helmBinary()}`);
  console.log(
    `encoding: base64(gzip(json)) with ${encoder ? "Go's compress/gzip BestCompression" : 'zlib level 9 (no Go toolchain)'}`,
  );
  const tcpShare = SHAPES.filter((shape) => shape.some((p) => p.protocol === 'TCP')).length / SHAPES.length;
  console.log(
    `peers: ${PEERS}; ${PINNED ? 'every service pinned to its own identity; ' : ''}services with a TCP port (one host per ServiceEntry): ${(tcpShare * 100).toFixed(0)} %; ` +
      `limit: ${SECRET_DATA_LIMIT} bytes of Secret data`,
  );
  const baseline = await measure(0, chart, encoder);
  console.log(`0 services: encoded ${kib(baseline.bytes)} (chart + values + base objects)`);
  for (const count of [1000, 10000]) {
    const size = await measure(count, chart, encoder);
    const times = await renderMs(count);
    console.log(
      `${count} services: encoded ${kib(size.bytes)}` +
        (size.goBytes !== undefined ? ` (zlib ${kib(size.zlibBytes)})` : '') +
        `, ${((size.bytes - baseline.bytes) / count).toFixed(1)} B/service encoded; ` +
        `JSON ${kib(size.jsonBytes)} = manifest ${kib(size.manifestBytes)} + values ${kib(size.configBytes)} + chart; ` +
        `helm template median ${median(times).toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')})`,
    );
  }
  const { fits, over } = await maxServices(chart, encoder);
  console.log(`max services in one release: ${fits} (over the limit at ${over})`);
}

await main();
