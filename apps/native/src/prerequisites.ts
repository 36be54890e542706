import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { commandOutput } from './run-command.js';

/** What the build needs from the machine, found. */
export interface BuildTools {
  /** A Python 3 with pip: downloads the wheel, unpacks it, and runs gyp. */
  readonly python: string;
  /** node-gyp's entry script, run with this Node. */
  readonly nodeGyp: string;
  /** A folder with include/node/node_api.h for this Node, so node-gyp downloads no headers. */
  readonly nodeDir: string;
}

export class MissingPrerequisiteError extends Error {
  constructor(readonly missing: readonly string[]) {
    super(
      `pnpm native:install cannot build the native backend; missing:\n${missing.map((line) => `  - ${line}`).join('\n')}`,
    );
    this.name = 'MissingPrerequisiteError';
  }
}

function findPython(missing: string[]): string | undefined {
  const candidates = process.env.MUP2_PYTHON ? [process.env.MUP2_PYTHON] : ['python3', 'python'];
  const python = candidates.find(
    (candidate) => commandOutput(candidate, ['-c', 'import sys; assert sys.version_info >= (3, 9)']) !== undefined,
  );
  if (python === undefined) {
    missing.push(
      `Python ≥ 3.9 (tried ${candidates.join(', ')}; set MUP2_PYTHON to choose one). ` +
        'Debian/Ubuntu: apt-get install python3 python3-pip',
    );
    return undefined;
  }
  if (commandOutput(python, ['-m', 'pip', '--version']) === undefined) {
    missing.push(`pip for ${python} (\`${python} -m pip\` fails). Debian/Ubuntu: apt-get install python3-pip`);
    return undefined;
  }
  return python;
}

function findCompiler(missing: string[]): void {
  // gyp's Makefiles call $(CXX), which make defaults to g++.
  const compiler = process.env.CXX || 'g++';
  if (commandOutput(compiler, ['--version']) === undefined) {
    missing.push(`a C++ compiler (\`${compiler} --version\` fails). Debian/Ubuntu: apt-get install g++`);
  }
  if (commandOutput('make', ['--version']) === undefined) {
    missing.push('make. Debian/Ubuntu: apt-get install make');
  }
}

/** node-gyp as pnpm or npm would run it: the one they name, else the copy bundled with npm. */
function findNodeGyp(missing: string[]): string | undefined {
  const prefix = dirname(dirname(process.execPath));
  const npmRoot = commandOutput('npm', ['root', '-g']);
  const candidates = [
    process.env.npm_config_node_gyp,
    join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    npmRoot && join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js'),
  ].filter((candidate): candidate is string => Boolean(candidate));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    missing.push(
      `node-gyp (it ships with npm; looked in ${candidates.join(', ')}). Install npm, or npm i -g node-gyp and set npm_config_node_gyp to its bin/node-gyp.js`,
    );
  }
  return found;
}

/** Node's C headers on this machine: npm's nodedir setting, Node's own install prefix, or node-gyp's cache. */
function findNodeHeaders(missing: string[]): string | undefined {
  const version = process.version.slice(1);
  const configured = process.env.npm_config_nodedir || commandOutput('npm', ['config', 'get', 'nodedir']);
  const candidates = [
    configured && configured !== 'undefined' ? configured : undefined,
    dirname(dirname(process.execPath)),
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'node-gyp', version),
  ].filter((candidate): candidate is string => Boolean(candidate));
  const found = candidates.find((candidate) => existsSync(join(candidate, 'include/node/node_api.h')));
  if (found === undefined) {
    missing.push(
      `Node ${process.version}'s C headers (include/node/node_api.h under ${candidates.join(', ')}). ` +
        'Debian/Ubuntu: apt-get install libnode-dev (for Debian nodejs), or run `npx node-gyp install` once (downloads them from nodejs.org)',
    );
  }
  return found;
}

/** Every build tool, or one error naming each one missing. */
export function findBuildTools(): BuildTools {
  const missing: string[] = [];
  const python = findPython(missing);
  findCompiler(missing);
  const nodeGyp = findNodeGyp(missing);
  const nodeDir = findNodeHeaders(missing);
  if (missing.length > 0 || python === undefined || nodeGyp === undefined || nodeDir === undefined) {
    throw new MissingPrerequisiteError(missing);
  }
  return { python, nodeGyp, nodeDir };
}
