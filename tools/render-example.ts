// The README's interim main job: render the chart with real Helm for an example
// configuration (values validated against openapi/ first, as addon-operator does).
//   npx bun tools/render-example.ts [--disabled] [--https-mode <mode>]
import { FULL_SCENARIO, scenarioValues, type HttpsMode } from '../tests/helm/fixtures';
import { helmTemplate, prepareValues, RenderFailed, ValuesRejected } from '../tests/helm/render';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const modeIndex = args.indexOf('--https-mode');
  const httpsMode = (modeIndex >= 0 ? args[modeIndex + 1] : FULL_SCENARIO.httpsMode) as HttpsMode;
  const scenario = { ...FULL_SCENARIO, enabled: !args.includes('--disabled'), httpsMode };
  try {
    process.stdout.write(await helmTemplate(prepareValues(scenarioValues(scenario))));
  } catch (error) {
    if (error instanceof ValuesRejected || error instanceof RenderFailed) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

await main();
