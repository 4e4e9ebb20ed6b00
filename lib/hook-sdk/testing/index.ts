export { HookHarness, bindingContextsFor, applyValuesPatchStrictly, runCompiledHook } from './harness';
export type { HarnessResult, HarnessRun, LogRecord, JsonObject } from './harness';
export { moduleValidators, loadModuleSchemas } from './values-schema';
export { applyJqFilter } from './gojq';
export { selectObjects, matchesLabelSelector } from './selectors';
