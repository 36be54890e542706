const cleanups = new Set<() => void>();

function runCleanups(): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // An exit goes on whatever one cleanup does.
    }
  }
  cleanups.clear();
}

/**
 * Runs `cleanup` when the process exits, also through `process.exit` (a second Ctrl-C stops at
 * once that way), where no `finally` runs. It must be synchronous. Returns the function that
 * unregisters it, for when the thing it cleans up is gone.
 */
export function onProcessExit(cleanup: () => void): () => void {
  if (!process.listeners('exit').includes(runCleanups)) process.on('exit', runCleanups);
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
