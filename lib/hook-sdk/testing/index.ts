export {
  HookHarness,
  bindingContextsFor,
  applyValuesPatchStrictly,
  runCompiledHook,
  writeOperatorFiles,
} from './harness';
export type { HarnessResult, HarnessRun, LogRecord, JsonObject, OperatorInput } from './harness';
export { moduleValidators, loadModuleSchemas } from './values-schema';
export { applyJqFilter } from './gojq';
export { selectObjects, matchesLabelSelector } from './selectors';
