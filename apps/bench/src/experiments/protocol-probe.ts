// Learning curves for choosing Figure 1's protocol (docs/bench.md): trains one config given as
// JSON and prints one JSON line per epoch (train accuracy at the weights before each step,
// test accuracy after the epoch, seconds).
//
//   pnpm --filter @mup2/bench exec tsx src/experiments/protocol-probe.ts '{"dataset":"fashion-mnist",...}'
import { initBackend } from '@mup2/core';
import { type TrainConfig, trainRun } from '@mup2/model-zoo';

const config = JSON.parse(process.argv[2] ?? '{}') as TrainConfig;
await initBackend({ log: () => {} });
const result = await trainRun(config, {
  onEpoch: (summary) =>
    process.stdout.write(
      `${JSON.stringify({
        config,
        epoch: summary.epoch,
        train: Number(summary.trainAccuracy.toFixed(4)),
        test: summary.testAccuracy === null ? null : Number(summary.testAccuracy.toFixed(4)),
        loss: Number(summary.trainLoss.toFixed(4)),
        seconds: Number(summary.seconds.toFixed(2)),
      })}\n`,
    ),
});
if (result.diverged) process.stdout.write(`${JSON.stringify({ config, diverged: result.divergedAtEpoch })}\n`);
