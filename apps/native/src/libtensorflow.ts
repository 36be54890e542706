import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { localPipIndexes, pipIndexOptions } from './pip-index.js';
import { commandOutput, runCommand } from './run-command.js';
import type { TfjsNodePackage } from './tfjs-node-package.js';

/**
 * The wheel libtensorflow comes from. tensorflow-cpu's wheel carries the full C API
 * (TF_* and TFE_*) in libtensorflow_cc.so.2; tfjs-node 4.22 was written against 2.9.1
 * and works with 2.21 (DESIGN.md §3 lists the one wrong kernel found).
 */
export const TENSORFLOW_WHEEL = { project: 'tensorflow-cpu', version: '2.21.0' } as const;

/** Written into deps/ last, so a deps/ without it is an interrupted extraction. */
const MARKER = 'mup2-libtensorflow.json';

interface Marker {
  readonly wheel: string;
  readonly project: string;
  readonly version: string;
}

/** The wheel whose libtensorflow is in deps/, or undefined when deps/ is missing or incomplete. */
export function installedLibtensorflow(pkg: TfjsNodePackage): Marker | undefined {
  const marker = join(pkg.dir, 'deps', MARKER);
  if (!existsSync(marker)) return undefined;
  const parsed = JSON.parse(readFileSync(marker, 'utf8')) as Marker;
  const complete = ['libtensorflow.so', 'libtensorflow_framework.so'].every((name) =>
    existsSync(join(pkg.libDir, name)),
  );
  return complete && existsSync(join(pkg.includeDir, 'tensorflow/c/c_api.h')) ? parsed : undefined;
}

/**
 * The tensorflow-cpu wheel: MUP2_TENSORFLOW_WHEEL if set (a .whl downloaded by hand),
 * else `pip download` into `cacheDir`, from pip's local indexes when it has any.
 */
export async function obtainWheel(
  python: string,
  cacheDir: string,
  log: (line: string) => void,
  options: { showPip?: boolean } = {},
): Promise<string> {
  const given = process.env.MUP2_TENSORFLOW_WHEEL;
  if (given) {
    if (!existsSync(given)) throw new Error(`MUP2_TENSORFLOW_WHEEL=${given}: no such file.`);
    log(`using the wheel ${given} (MUP2_TENSORFLOW_WHEEL)`);
    return given;
  }
  mkdirSync(cacheDir, { recursive: true });
  const indexes = localPipIndexes(commandOutput(python, ['-m', 'pip', 'config', 'list']) ?? '');
  const requirement = `${TENSORFLOW_WHEEL.project}==${TENSORFLOW_WHEEL.version}`;
  log(
    `pip download ${requirement} (~270 MB) from ${indexes.length > 0 ? `pip's local index ${indexes.join(', ')}` : "pip's configured index (PyPI)"}`,
  );
  const index = pipIndexOptions(indexes);
  try {
    await runCommand(
      python,
      ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--dest', cacheDir, ...index.args, requirement],
      { show: options.showPip ?? true, env: { ...process.env, ...index.env } },
    );
  } catch (error) {
    throw new Error(
      `pip could not download ${requirement} (${error instanceof Error ? error.message : String(error)}). ` +
        'It needs a wheel for this Python and platform (Linux x86-64, Python 3.9–3.13); ' +
        'or download one yourself and set MUP2_TENSORFLOW_WHEEL to its path.',
    );
  }
  const wheel = readdirSync(cacheDir).find(
    (name) =>
      name.startsWith(`${TENSORFLOW_WHEEL.project.replace('-', '_')}-${TENSORFLOW_WHEEL.version}-`) &&
      name.endsWith('.whl'),
  );
  if (wheel === undefined) throw new Error(`pip reported success but left no ${requirement} wheel in ${cacheDir}.`);
  return join(cacheDir, wheel);
}

/**
 * Copies, streaming, the two shared libraries and the C headers tfjs-node's binding and
 * the fused kernels (fused-ops.ts: TensorFlow's C kernel API) include out of the wheel (a zip). Python's zipfile does it: pip needs Python anyway.
 */
const EXTRACT_SCRIPT = `
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
libraries = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/ctstring',
           'tensorflow/include/tsl/platform/ctstring', 'tensorflow/include/xla/tsl/c/',
           'tensorflow/include/tsl/platform/platform.h',
           'tensorflow/include/tensorflow/core/common_runtime/next_pluggable_device/c/')
found = set()
with zipfile.ZipFile(wheel) as archive:
    for info in archive.infolist():
        name = info.filename
        if name.endswith('/'):
            continue
        if name in libraries:
            target = os.path.join(dest, 'lib', os.path.basename(name))
            found.add(name)
            print(f'{os.path.basename(name)} ({info.file_size / 1e6:.0f} MB)', flush=True)
        elif name.startswith(headers):
            target = os.path.join(dest, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with archive.open(info) as source, open(target, 'wb') as sink:
            shutil.copyfileobj(source, sink, 1 << 22)
missing = libraries - found
if missing:
    sys.exit(f'the wheel lacks {", ".join(sorted(missing))}')
`;

/**
 * Puts libtensorflow into tfjs-node's deps/: extracted into deps.partial/, linked under
 * the names binding.gyp links against, marked, then moved into place, so an
 * interrupted run leaves no deps/ that looks complete.
 */
export async function installLibtensorflow(
  python: string,
  wheel: string,
  pkg: TfjsNodePackage,
  options: { strip: boolean; log: (line: string) => void },
): Promise<void> {
  const deps = join(pkg.dir, 'deps');
  const partial = join(pkg.dir, 'deps.partial');
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, 'lib'), { recursive: true });
  options.log(`unpacking libtensorflow and its C headers from ${wheel}`);
  const listed = await runCommand(python, ['-c', EXTRACT_SCRIPT, wheel, partial]);
  for (const line of listed.trim().split('\n')) options.log(`  ${line}`);
  const lib = join(partial, 'lib');
  if (options.strip) {
    // Drops the static symbol tables (~200 MB); the dynamic symbols the addon links against stay.
    if (commandOutput('strip', ['--version']) === undefined) {
      options.log('strip not found: keeping the libraries unstripped (~200 MB more)');
    } else {
      options.log('strip --strip-all (saves ~200 MB)');
      await runCommand('strip', [
        '--strip-all',
        join(lib, 'libtensorflow_cc.so.2'),
        join(lib, 'libtensorflow_framework.so.2'),
      ]);
    }
  }
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so'));
  symlinkSync('libtensorflow_framework.so.2', join(lib, 'libtensorflow_framework.so'));
  // tfjs-node's own install script takes this name as "libtensorflow already downloaded": should it
  // ever run (npm rebuild), it builds against these libraries instead of wiping deps/ for the CDN.
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so.2.9.1'));
  const marker: Marker = { wheel, project: TENSORFLOW_WHEEL.project, version: TENSORFLOW_WHEEL.version };
  writeFileSync(join(partial, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  rmSync(deps, { recursive: true, force: true });
  renameSync(partial, deps);
}
