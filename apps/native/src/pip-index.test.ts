import { describe, expect, it } from 'vitest';
import { localPipIndexes, pipIndexOptions } from './pip-index.js';

// The shape `pip config list` prints (pip 23–25): <scope>.<key>='<value>', several URLs space-separated.
const CONFIG = `:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
site.index-url='https://pypi.org/simple'
user.extra-index-url='https://example.org/simple file:///opt/pypi/simple'`;

describe('localPipIndexes', () => {
  it('keeps the file:// indexes of index-url and extra-index-url in order, once each', () => {
    expect(localPipIndexes(CONFIG)).toEqual(['file:///opt/pypi/simple', 'file:///opt/pypi-more/simple']);
  });

  it('finds none in a configuration without local indexes', () => {
    expect(localPipIndexes("global.index-url='https://pypi.org/simple'\n")).toEqual([]);
    expect(localPipIndexes('')).toEqual([]);
  });
});

describe('pipIndexOptions', () => {
  it('puts the first index in --index-url and the others in PIP_EXTRA_INDEX_URL', () => {
    expect(pipIndexOptions(['file:///a', 'file:///b', 'file:///c'])).toEqual({
      args: ['--index-url', 'file:///a'],
      env: { PIP_EXTRA_INDEX_URL: 'file:///b file:///c' },
    });
  });

  it('overrides the configured extra indexes even when there is only one local index', () => {
    expect(pipIndexOptions(['file:///a']).env).toEqual({ PIP_EXTRA_INDEX_URL: 'file:///a' });
  });

  it('changes nothing without local indexes', () => {
    expect(pipIndexOptions([])).toEqual({ args: [], env: {} });
  });
});
