// Ctrl-C while no command listens for it: node and tsx loading the modules (seconds, on a busy
// machine), before a command installs its own handling (handleInterrupts) or after it is done with
// it. The process then exits at once with code 130, through process.exit, so the exit handlers run
// (onProcessExit: locks and temporary files are removed). Without this, SIGINT's default action
// kills the process by the signal, and pnpm, whose script was killed by SIGINT, exits 0.
//
// Plain JavaScript, so that `node --import` can load it before tsx, the first thing the process
// runs (package.json's bench and zoo scripts); the CLIs import it as well, for other launchers.
const INSTALLED = Symbol.for('@mup2/exit-on-interrupt');

if (globalThis[INSTALLED] !== true) {
  globalThis[INSTALLED] = true;
  process.on('SIGINT', () => {
    // Another listener is a command's own handling of Ctrl-C: it decides what happens.
    if (process.listenerCount('SIGINT') > 1) return;
    process.stderr.write('\nstopped (Ctrl-C)\n');
    process.exit(130);
  });
}
