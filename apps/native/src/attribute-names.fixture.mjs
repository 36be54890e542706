// Two Node worker threads run tfjs-node ops at the same time, each op naming 200 attributes no op
// named before (TensorFlow logs and ignores an attribute its op does not have). tfjs-node keeps
// every attribute name it has seen in one set per process; unguarded, two threads inserting at once
// corrupt it (a segfault, an abort or a hang). Prints "ok" when both threads finish. Run from the
// repository's root, which has @tensorflow/tfjs-node.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const THREADS = 2;
const OPS = 2000;
const NAMES_PER_OP = 200;

if (isMainThread) {
  const started = new SharedArrayBuffer(4);
  const done = await Promise.all(
    Array.from({ length: THREADS }, (_, thread) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { thread, started } });
      return new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  console.log(done.every((ops) => ops === OPS) ? 'ok' : `unexpected ${JSON.stringify(done)}`);
} else {
  const tf = createRequire(join(process.cwd(), 'package.json'))('@tensorflow/tfjs-node');
  const backend = tf.backend();
  const { binding } = backend;
  const x = tf.tensor1d([1, 2, 3]);
  const inputs = backend.getInputTensorIds([x]);
  const type = { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT };
  // Built before the start, so that the threads' loops are mostly the inserts.
  const attributes = Array.from({ length: OPS }, (_, op) => [
    type,
    ...Array.from({ length: NAMES_PER_OP }, (_, k) => ({
      name: `n${String(op * NAMES_PER_OP + k).padStart(9, '0')}_${workerData.thread}`,
      type: binding.TF_ATTR_INT,
      value: 1,
    })),
  ]);
  const started = new Int32Array(workerData.started);
  Atomics.add(started, 0, 1);
  while (Atomics.load(started, 0) < THREADS) {
    // Spin: both threads leave together.
  }
  let ran = 0;
  for (const attrs of attributes) {
    for (const output of binding.executeOp('Identity', attrs, inputs, 1)) binding.deleteTensor(output.id);
    ran++;
  }
  parentPort.postMessage(ran);
}
