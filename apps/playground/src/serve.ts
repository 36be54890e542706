import { DEFAULT_PORT, startPlayground } from './playground-server.js';

// `pnpm playground [port]`
const port = process.argv[2] === undefined ? DEFAULT_PORT : Number(process.argv[2]);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`error: pnpm playground [port]: expected a port number, got '${process.argv[2]}'.\n`);
  process.exit(2);
}
const server = await startPlayground({ port });
process.stdout.write(`µP² playground: ${server.resolvedUrls?.local[0] ?? '(no address)'}  (Ctrl-C stops it)\n`);
