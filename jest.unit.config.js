// `npm run test:unit`: every test that needs no upstream tool (gojq, Helm, kube-apiserver,
// etcd, addon-operator) and no build output in dist/. No global setup: nothing is built.
// Hook tests through HookHarness run each jqFilter with real gojq and stay in `npm test`.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  globalSetup: undefined,
  setupFiles: ['<rootDir>/tests/unit-setup.js'],
  testMatch: [
    '<rootDir>/lib/**/*.test.ts',
    '<rootDir>/images/**/*.test.ts',
    '<rootDir>/tests/schemas/**/*.test.ts',
    '<rootDir>/tests/docs/**/*.test.ts',
    '<rootDir>/tests/fetch/fetch.test.ts',
    '<rootDir>/tests/fetch/transport.test.ts',
    '<rootDir>/tests/fetch/conditional.test.ts',
    '<rootDir>/tests/helm/validate.test.ts',
    '<rootDir>/tests/e2e/kube-api.test.ts',
    // Parses the dashboard and checks metric names; promtool.test.ts (next to it) needs promtool.
    '<rootDir>/tests/monitoring/dashboard.test.ts',
  ],
};
