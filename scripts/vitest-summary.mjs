#!/usr/bin/env node
// The closing line of a CI run, `N passed, N failed[, N skipped]`, from vitest's JSON reports.
//
//   node scripts/vitest-summary.mjs [--exit-status <code of the test command>] <report.json>...
//
// vitest's numFailedTests counts failed tests only: a file that fails to load, or whose
// beforeAll/afterAll throws, has no failed test in it. Each such file counts as one failure
// here, so the line never reads "0 failed" for a run that failed. A report that is missing
// (the run died before writing it) counts as one failure, and so does a non-zero exit status
// of the test command when no report shows a failure (a build step before vitest failed).
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * @typedef {{ status: string, message?: string, name: string, assertionResults: { status: string }[] }} FileResult
 * @typedef {{ numPassedTests: number, numFailedTests: number, numPendingTests?: number, numTodoTests?: number, testResults: FileResult[] }} VitestReport
 * @typedef {{ passed: number, failed: number, skipped: number, problems: string[] }} Summary
 */

/**
 * @param {ReadonlyArray<{ path: string, report: VitestReport | undefined }>} reports
 * @param {number} exitStatus
 * @returns {Summary}
 */
export function summarize(reports, exitStatus = 0) {
  const summary = { passed: 0, failed: 0, skipped: 0, problems: [] };
  for (const { path, report } of reports) {
    if (report === undefined) {
      summary.failed += 1;
      summary.problems.push(`${path}: no report (the test run ended before writing it)`);
      continue;
    }
    summary.passed += report.numPassedTests;
    summary.failed += report.numFailedTests;
    summary.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    for (const file of report.testResults) {
      const failedTests = file.assertionResults.filter((test) => test.status === 'failed').length;
      if (file.status === 'failed' && failedTests === 0) {
        summary.failed += 1;
        const reason = (file.message ?? '').split('\n')[0] || 'a hook failed';
        summary.problems.push(`${file.name}: the file failed outside its tests (${reason})`);
      }
    }
  }
  if (exitStatus !== 0 && summary.failed === 0) {
    summary.failed = 1;
    summary.problems.push(`the test command exited with ${exitStatus} and no report shows a failure`);
  }
  return summary;
}

/** @param {Summary} summary */
export function closingLine(summary) {
  return `${summary.passed} passed, ${summary.failed} failed${summary.skipped > 0 ? `, ${summary.skipped} skipped` : ''}`;
}

/** @param {string} path @returns {VitestReport | undefined} */
function readReport(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  let exitStatus = 0;
  const statusAt = args.indexOf('--exit-status');
  if (statusAt >= 0) {
    exitStatus = Number(args[statusAt + 1]);
    if (!Number.isInteger(exitStatus)) {
      console.error(`vitest-summary: --exit-status must be an integer, got ${JSON.stringify(args[statusAt + 1])}`);
      process.exit(2);
    }
    args.splice(statusAt, 2);
  }
  if (args.length === 0) {
    console.error('usage: vitest-summary.mjs [--exit-status <code>] <report.json>...');
    process.exit(2);
  }
  const summary = summarize(
    args.map((path) => ({ path, report: readReport(path) })),
    exitStatus,
  );
  for (const problem of summary.problems) console.log(`failed: ${problem}`);
  console.log(closingLine(summary));
}
