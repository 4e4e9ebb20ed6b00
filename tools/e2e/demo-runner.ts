import { stopRun, type FederationRun } from './scenario';
import { buildModule, ensureUpstreamTools } from './tools';

/**
 * The frame both demos share (`npm run demo`, `npm run demo:multicluster`): build, upstream
 * tools, start the clusters, run the story, print what it returns, stop everything (also on
 * failure), with timed progress lines on stderr. ISTIO_FED_DEMO_KEEP=1 keeps the run
 * directory (logs, kubeconfigs) for inspection.
 */
export interface DemoStory<R extends FederationRun> {
  /** The progress line of step 1 (what is built). */
  building: string;
  /** The progress line of step 3 (which clusters start). */
  starting: string;
  start(options: { log: (line: string) => void; keepRunDir: boolean }): Promise<R>;
  /** The progress line of step 4 (what the story does). */
  story: string;
  run(run: R): Promise<unknown>;
  /** What is printed on stdout afterwards, in order. */
  report(run: R): Promise<string[]>;
}

export async function runDemo<R extends FederationRun>(demo: DemoStory<R>): Promise<number> {
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(7);
  const log = (line: string): void => {
    process.stderr.write(`[demo ${elapsed()}] ${line}\n`);
  };
  let run: R | undefined;
  const keep = process.env.ISTIO_FED_DEMO_KEEP === '1';
  try {
    log(`1/4 building the module (${demo.building}) into dist/`);
    await buildModule(log);
    log('2/4 upstream tools (built once from the Go module proxy, then cached; first time: minutes)');
    await ensureUpstreamTools(log);
    log(`3/4 ${demo.starting}`);
    run = await demo.start({ log, keepRunDir: keep });
    log(`4/4 ${demo.story}`);
    await demo.run(run);
    for (const text of await demo.report(run)) process.stdout.write(`\n${text}\n`);
    process.stdout.write('\n');
    log('done; stopping everything');
    return 0;
  } catch (error) {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await stopRun(run, keep);
    if (keep && run) log(`run directory kept: ${run.runDir}`);
    log(`stopped all processes (total ${elapsed().trim()})`);
  }
}
