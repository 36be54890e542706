import { describe, expect, it } from 'vitest';
import { compactJson } from './compact-json.js';

describe('compactJson', () => {
  it('keeps lists of plain values on one line and indents the rest', () => {
    expect(compactJson({ lrs: [0.03, 0.1], names: ['a', null], nested: [{ x: 1 }], empty: {}, skip: undefined })).toBe(
      '{\n  "lrs": [0.03, 0.1],\n  "names": ["a", null],\n  "nested": [\n    {\n      "x": 1\n    }\n  ],\n  "empty": {}\n}',
    );
  });

  it('reads back as the same JSON', () => {
    const value = { grid: { widths: [1, 4], optimizer: null, deep: [[1, 2], [3]] }, hash: 'abc' };
    expect(JSON.parse(compactJson(value))).toEqual(value);
  });
});
