/**
 * Package indexes on this machine's disk among pip's configured ones. pip tries every
 * index it is given; where PyPI cannot be reached each try waits for its timeout, so
 * when pip's configuration names local (file://) indexes we pass those alone as
 * --index-url / --extra-index-url. With none, pip's own configuration (PyPI) is used.
 */
export function localPipIndexes(pipConfigList: string): string[] {
  const indexes: string[] = [];
  for (const line of pipConfigList.split('\n')) {
    // `pip config list` prints lines like  global.extra-index-url='file:///a file:///b'
    const match = /^[\w:.-]*\.(?:extra-)?index-url\s*=\s*'?([^']*)'?\s*$/.exec(line.trim());
    if (!match) continue;
    for (const url of (match[1] ?? '').split(/\s+/)) {
      if (url.startsWith('file://') && !indexes.includes(url)) indexes.push(url);
    }
  }
  return indexes;
}

/**
 * pip options that make it look in exactly these indexes: the first as --index-url (instead of
 * PyPI), the rest through PIP_EXTRA_INDEX_URL, which overrides the configured extra indexes (an
 * empty value would not, hence the first again when there is no other: a repeat costs nothing).
 * No indexes: nothing changes.
 */
export function pipIndexOptions(indexes: readonly string[]): { args: string[]; env: Record<string, string> } {
  const [first, ...rest] = indexes;
  if (first === undefined) return { args: [], env: {} };
  return { args: ['--index-url', first], env: { PIP_EXTRA_INDEX_URL: rest.length > 0 ? rest.join(' ') : first } };
}
