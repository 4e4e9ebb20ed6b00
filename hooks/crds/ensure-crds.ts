import { defineHook } from '../../lib/hook-sdk';
import { moduleCrds } from '../../lib/crds/module-crds';

/**
 * Installs and upgrades the module's CRDs at start, before any binding watches them and
 * before Helm renders objects of their kinds (as Deckhouse's ensure-CRDs hooks do).
 * CreateOrUpdate replaces the whole definition, so a new module version's schema wins.
 */
export default defineHook({
  name: 'crds/ensure-crds',
  onStartup: 1,
  run({ kube, log }) {
    const crds = moduleCrds();
    for (const crd of crds) kube.createOrUpdate(crd);
    log.info('ensured the module CRDs', { crds: crds.map((crd) => crd.metadata.name) });
  },
});
