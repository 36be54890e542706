import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Node flags that let a new worker thread or process run TypeScript source: a parent
 * started by tsx passes its loader on by itself, one started otherwise (vitest) does
 * not, so it is added.
 */
export function tsxExecArgv(entry: URL): string[] {
  const inherited = process.execArgv;
  if (!entry.pathname.endsWith('.ts') || inherited.some((flag) => flag.includes('tsx'))) return inherited;
  const loader = createRequire(import.meta.url).resolve('tsx');
  return [...inherited, '--import', pathToFileURL(loader).href];
}
