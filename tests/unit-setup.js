// Unit tests use no upstream tool and no build output: point every tool at a path that
// cannot exist, so a test that needs one fails at once instead of finding a cached build.
for (const name of ['GOJQ_BIN', 'HELM_BIN', 'PROMTOOL_BIN', 'HOOK_BINARY', 'EXPORTER_BINARY']) {
  process.env[name] = `/nonexistent/unit-tests-use-no-${name.toLowerCase()}`;
}
