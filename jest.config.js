// Tests run under the machine's Node.js; TypeScript and ESM-only dependencies are
// transformed by SWC, so one configuration serves unit, harness and binary tests.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Files the code imports as text (Bun inlines them into the executables).
    '\\.yaml$': '<rootDir>/tests/text-transform.cjs',
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [
    // @kubernetes/client-node ships ESM only, and so do openid-client and oauth4webapi,
    // which it imports (jose is already listed).
    '/node_modules/(?!(jose|fast-check|pure-rand|kubernetes-models|@kubernetes-models|is-cidr|cidr-regex|@kubernetes/client-node|openid-client|oauth4webapi)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json', 'yaml'],
  resolver: '<rootDir>/tests/helm/esm-exports-resolver.cjs',
  globalSetup: '<rootDir>/tests/global-setup.ts',
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
  testTimeout: 60000,
};
