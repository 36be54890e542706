import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';
import { digitsPlugin } from './digits-plugin.js';
import { rulesPlugin } from './rules-plugin.js';

export const DEFAULT_PORT = 5173;

/**
 * Starts the playground's Vite dev server on 127.0.0.1 (the next free port from `port`), in
 * this process: the digits plugin imports the zoo's TypeScript sources, which a Vite config
 * file loaded by plain Node could not.
 */
export async function startPlayground(options: { port?: number } = {}): Promise<ViteDevServer> {
  const server = await createServer({
    configFile: false,
    root: fileURLToPath(new URL('..', import.meta.url)),
    server: { host: '127.0.0.1', port: options.port ?? DEFAULT_PORT, strictPort: false },
    plugins: [digitsPlugin(), rulesPlugin()],
    // Everything the page and its worker import, optimised in one pass before the page loads: a
    // dependency found later makes Vite re-optimise and reload the page, and one tfjs-core for all.
    optimizeDeps: {
      include: [
        '@tensorflow/tfjs',
        '@tensorflow/tfjs-core',
        '@tensorflow/tfjs-backend-wasm',
        'vega-embed',
        'vega',
        'vega-lite',
      ],
    },
    resolve: { dedupe: ['@tensorflow/tfjs-core', '@tensorflow/tfjs'] },
    worker: { format: 'es' },
  });
  await server.listen();
  return server;
}
