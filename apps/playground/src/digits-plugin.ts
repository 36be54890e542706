import { loadMnist } from '@mup2/model-zoo';
import type { Plugin } from 'vite';
import { encodeDigits } from './digits-format.js';

/** Where the page fetches the digits from. */
export const DIGITS_PATH = '/mnist-digits.bin';

/**
 * Serves the zoo's embedded MNIST split (from the `mnist` package, on this machine) at
 * DIGITS_PATH, so the page trains on real digits with no network and no data files.
 */
export function digitsPlugin(): Plugin {
  let encoded: Promise<Uint8Array> | undefined;
  return {
    name: 'mup2-mnist-digits',
    configureServer(server) {
      server.middlewares.use(DIGITS_PATH, (_request, response, next) => {
        encoded ??= loadMnist().then(encodeDigits);
        encoded.then((bytes) => {
          response.setHeader('Content-Type', 'application/octet-stream');
          response.setHeader('Cache-Control', 'max-age=3600');
          response.end(bytes);
        }, next);
      });
    },
  };
}
