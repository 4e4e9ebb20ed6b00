import type { BatchApp } from '../lib/hook-sdk';
import authnKeypair from './federation/authn-keypair';

/** Every hook of the module; a hook's index here is its id in `hook run <index>`. */
export const app: BatchApp = {
  valuesKey: 'istio',
  hooks: [authnKeypair],
};
