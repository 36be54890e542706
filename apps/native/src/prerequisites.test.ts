import { afterEach, describe, expect, it } from 'vitest';
import { findBuildTools, MissingPrerequisiteError } from './prerequisites.js';

const saved = { python: process.env.MUP2_PYTHON, cxx: process.env.CXX };

afterEach(() => {
  for (const [key, value] of [
    ['MUP2_PYTHON', saved.python],
    ['CXX', saved.cxx],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('findBuildTools', () => {
  it('names every missing piece in one error: here a Python and a compiler that do not exist', () => {
    process.env.MUP2_PYTHON = '/nonexistent/python3';
    process.env.CXX = '/nonexistent/g++';
    let thrown: unknown;
    try {
      findBuildTools();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingPrerequisiteError);
    const { missing, message } = thrown as MissingPrerequisiteError;
    expect(missing.some((line) => line.includes('Python') && line.includes('/nonexistent/python3'))).toBe(true);
    expect(missing.some((line) => line.includes('C++ compiler') && line.includes('/nonexistent/g++'))).toBe(true);
    expect(message).toContain('apt-get install');
  });
});
