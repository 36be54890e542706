import { MissingPrerequisiteError } from './prerequisites.js';
import { CommandError } from './run-command.js';

/**
 * Why this machine cannot use the tensorflow-cpu wheel's libtensorflow, or undefined when it can:
 * the wheel we build against ships it for Linux x86-64 only.
 */
export function unsupportedPlatform(
  platform: string = process.platform,
  arch: string = process.arch,
): string | undefined {
  if (platform === 'linux' && arch === 'x64') return undefined;
  return `this is ${platform}-${arch}; the tensorflow-cpu wheel's libtensorflow it builds on is for Linux x86-64`;
}

/** A failure of the install as a few words: what is missing (and the Debian packages), or the error's first line. */
export function failureReason(error: unknown): string {
  if (error instanceof MissingPrerequisiteError) {
    // Each entry reads "what (details). Debian/Ubuntu: apt-get install pkg…": keep what, and the packages.
    const what = error.missing.map((line) => line.split(/ \(|\. /)[0]?.trim()).filter(Boolean);
    const packages = [
      ...new Set(
        error.missing.flatMap((line) => /apt-get install ([\w.+ -]+?)(?:[,;)(]|$)/.exec(line)?.[1]?.split(' ') ?? []),
      ),
    ].filter(Boolean);
    return `missing ${what.join(', ')}${packages.length > 0 ? ` (Debian: apt-get install ${packages.join(' ')})` : ''}`;
  }
  if (error instanceof CommandError) return error.message.split('\n')[0] as string;
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] as string;
}

/** The one line `native:install --if-possible` prints when it cannot build the backend. */
export function skippedLine(reason: string): string {
  return `native:install: cannot build the native tensorflow backend here: ${reason}. Everything runs on wasm instead, 3–7× slower.`;
}
