/* global module */
// kubernetes-models and @kubernetes-models/* publish only an "import" export condition,
// which jest's CommonJS runtime does not ask for; resolve just those packages with it
// (their ESM is then transformed by SWC, see transformIgnorePatterns).
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/[^/]+)(\/|$)/;

module.exports = (path, options) =>
  options.defaultResolver(
    path,
    ESM_ONLY.test(path) ? { ...options, conditions: ['import', 'default'] } : options,
  );
