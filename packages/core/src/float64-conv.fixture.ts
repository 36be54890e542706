// Float64 convolutions and their gradients by their definitions, as loops: the independent
// computation the stride-1 gradient forms and the wasm kernels are checked against.

export interface Float64ConvCase {
  /** [N, H, W, C] */
  readonly inputShape: readonly [number, number, number, number];
  /** [kh, kw, C, Cout] for a convolution, [kh, kw, C, M] for a depthwise one. */
  readonly filterShape: readonly [number, number, number, number];
  readonly strides: readonly [number, number];
  /** 'same' and 'valid' as TensorFlow defines them, or explicit [[top, bottom], [left, right]]. */
  readonly pad: 'same' | 'valid' | readonly [readonly [number, number], readonly [number, number]];
  readonly depthwise: boolean;
}

/** Output size and the padding before the first row along one axis (TensorFlow's rules, derived here on their own). */
function axis(size: number, kernel: number, stride: number, pad: Float64ConvCase['pad'], which: 0 | 1) {
  if (pad === 'valid') return { out: Math.floor((size - kernel) / stride) + 1, before: 0 };
  if (pad === 'same') {
    const out = Math.ceil(size / stride);
    return { out, before: Math.floor(Math.max((out - 1) * stride + kernel - size, 0) / 2) };
  }
  const [before, after] = pad[which];
  return { out: Math.floor((size + before + after - kernel) / stride) + 1, before };
}

export function outputShape(testCase: Float64ConvCase): [number, number, number, number] {
  const [n, h, w, c] = testCase.inputShape;
  const [kh, kw, , m] = testCase.filterShape;
  const rows = axis(h, kh, testCase.strides[0], testCase.pad, 0);
  const cols = axis(w, kw, testCase.strides[1], testCase.pad, 1);
  return [n, rows.out, cols.out, testCase.depthwise ? c * m : m];
}

/**
 * Visits every (output, input, filter) triple of the convolution: `visit(yIndex, xIndex, fIndex)`
 * with flat row-major indices, for the terms y[yIndex] += x[xIndex] · f[fIndex].
 */
function forEachTerm(testCase: Float64ConvCase, visit: (y: number, x: number, f: number) => void): void {
  const [n, h, w, c] = testCase.inputShape;
  const [kh, kw, , m] = testCase.filterShape;
  const [sh, sw] = testCase.strides;
  const rows = axis(h, kh, sh, testCase.pad, 0);
  const cols = axis(w, kw, sw, testCase.pad, 1);
  const outChannels = testCase.depthwise ? c * m : m;
  for (let b = 0; b < n; b++)
    for (let p = 0; p < rows.out; p++)
      for (let q = 0; q < cols.out; q++)
        for (let a = 0; a < kh; a++)
          for (let d = 0; d < kw; d++) {
            const i = p * sh + a - rows.before;
            const j = q * sw + d - cols.before;
            if (i < 0 || i >= h || j < 0 || j >= w) continue;
            for (let ci = 0; ci < c; ci++) {
              const xIndex = ((b * h + i) * w + j) * c + ci;
              const outputs = testCase.depthwise ? m : outChannels;
              for (let o = 0; o < outputs; o++) {
                const channel = testCase.depthwise ? ci * m + o : o;
                const yIndex = ((b * rows.out + p) * cols.out + q) * outChannels + channel;
                const fIndex = ((a * kw + d) * c + ci) * m + o;
                visit(yIndex, xIndex, fIndex);
              }
            }
          }
}

/** y = conv(x, f) in float64. */
export function float64Convolution(testCase: Float64ConvCase, x: Float64Array, filter: Float64Array): Float64Array {
  const y = new Float64Array(outputShape(testCase).reduce((product, size) => product * size, 1));
  forEachTerm(testCase, (yIndex, xIndex, fIndex) => {
    y[yIndex] = (y[yIndex] as number) + (x[xIndex] as number) * (filter[fIndex] as number);
  });
  return y;
}

/** ∂L/∂x and ∂L/∂f of L = Σ dy ⊙ conv(x, f), in float64. */
export function float64ConvolutionGradients(
  testCase: Float64ConvCase,
  x: Float64Array,
  filter: Float64Array,
  dy: Float64Array,
): { dx: Float64Array; dFilter: Float64Array } {
  const dx = new Float64Array(x.length);
  const dFilter = new Float64Array(filter.length);
  forEachTerm(testCase, (yIndex, xIndex, fIndex) => {
    const upstream = dy[yIndex] as number;
    dx[xIndex] = (dx[xIndex] as number) + upstream * (filter[fIndex] as number);
    dFilter[fIndex] = (dFilter[fIndex] as number) + upstream * (x[xIndex] as number);
  });
  return { dx, dFilter };
}

/** A deterministic pseudo-random vector in [−1, 1) (a linear congruential generator). */
export function float64Values(length: number, seed: number): Float64Array {
  let state = seed >>> 0 || 1;
  return Float64Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}
