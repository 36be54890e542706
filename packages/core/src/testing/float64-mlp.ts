/**
 * A small MLP with hand-written backpropagation in float64, independent of
 * TF.js, to check optimizer steps against:
 *
 *   z1 = x·W1;  a1 = relu(γ ⊙ z1);  a2 = relu(a1·W2 + b2);  logits = a2·W3
 *   loss = mean over the batch of softmax cross-entropy
 *
 * W1 is an input weight, γ a norm-like gain (a vector marked `norm`), W2 a hidden
 * weight, b2 a bias, W3 the readout. Matrices are row-major [rows, cols].
 */
export interface Float64MlpParams {
  W1: Float64Array;
  gamma: Float64Array;
  W2: Float64Array;
  b2: Float64Array;
  W3: Float64Array;
}

export type Float64MlpName = keyof Float64MlpParams;
export const FLOAT64_MLP_NAMES: readonly Float64MlpName[] = ['W1', 'gamma', 'W2', 'b2', 'W3'];

/** The float64 MLP's sizes: inputs → width → width → classes. */
export interface Float64MlpShape {
  readonly inputSize: number;
  readonly width: number;
  readonly classes: number;
}

/** The shape of each of the MLP's parameters at this size. */
export function float64Shapes(shape: Float64MlpShape): Record<Float64MlpName, number[]> {
  const { inputSize, width, classes } = shape;
  return { W1: [inputSize, width], gamma: [width], W2: [width, width], b2: [width], W3: [width, classes] };
}

function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p] as number;
      if (aip === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] = (out[i * m + j] as number) + aip * (b[p * m + j] as number);
    }
  return out;
}

/** aᵀ·b for a [n, k], b [n, m] → [k, m]. */
function matmulTransA(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(k * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p] as number;
      if (aip === 0) continue;
      for (let j = 0; j < m; j++) out[p * m + j] = (out[p * m + j] as number) + aip * (b[i * m + j] as number);
    }
  return out;
}

/** a·bᵀ for a [n, m], b [k, m] → [n, k]. */
function matmulTransB(a: Float64Array, b: Float64Array, n: number, m: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      let sum = 0;
      for (let j = 0; j < m; j++) sum += (a[i * m + j] as number) * (b[p * m + j] as number);
      out[i * k + p] = sum;
    }
  return out;
}

/** The float64 forward pass: every layer's activations and the loss. */
export interface Float64Forward {
  loss: number;
  /** Each layer's input, for effective-perturbation measurements: x, z1, a1, a2. */
  x: Float64Array;
  z1: Float64Array;
  a1: Float64Array;
  a2: Float64Array;
}

/** Loss and gradients of the MLP at `params` on inputs x [batch, inputSize] and integer labels. */
export function float64LossAndGradients(
  params: Float64MlpParams,
  x: Float64Array,
  labels: readonly number[],
  shape: Float64MlpShape,
): { forward: Float64Forward; gradients: Float64MlpParams } {
  const { inputSize: d, width: n, classes: c } = shape;
  const batch = labels.length;
  const z1 = matmul(x, params.W1, batch, d, n);
  const u1 = z1.map((value, index) => value * (params.gamma[index % n] as number));
  const a1 = u1.map((value) => Math.max(value, 0));
  const z2 = matmul(a1, params.W2, batch, n, n).map((value, index) => value + (params.b2[index % n] as number));
  const a2 = z2.map((value) => Math.max(value, 0));
  const logits = matmul(a2, params.W3, batch, n, c);
  let loss = 0;
  const dLogits = new Float64Array(batch * c);
  for (let i = 0; i < batch; i++) {
    const row = logits.subarray(i * c, (i + 1) * c);
    const max = Math.max(...row);
    let sum = 0;
    for (const value of row) sum += Math.exp(value - max);
    const label = labels[i] as number;
    loss += -((row[label] as number) - max - Math.log(sum)) / batch;
    for (let j = 0; j < c; j++) {
      const probability = Math.exp((row[j] as number) - max) / sum;
      dLogits[i * c + j] = (probability - (j === label ? 1 : 0)) / batch;
    }
  }
  const gW3 = matmulTransA(a2, dLogits, batch, n, c);
  const da2 = matmulTransB(dLogits, params.W3, batch, c, n);
  const dz2 = da2.map((value, index) => ((z2[index] as number) > 0 ? value : 0));
  const gW2 = matmulTransA(a1, dz2, batch, n, n);
  const gb2 = new Float64Array(n);
  for (let index = 0; index < dz2.length; index++) gb2[index % n] = (gb2[index % n] as number) + (dz2[index] as number);
  const da1 = matmulTransB(dz2, params.W2, batch, n, n);
  const du1 = da1.map((value, index) => ((u1[index] as number) > 0 ? value : 0));
  const gGamma = new Float64Array(n);
  for (let index = 0; index < du1.length; index++) {
    gGamma[index % n] = (gGamma[index % n] as number) + (du1[index] as number) * (z1[index] as number);
  }
  const dz1 = du1.map((value, index) => value * (params.gamma[index % n] as number));
  const gW1 = matmulTransA(x, dz1, batch, d, n);
  return {
    forward: { loss, x, z1, a1, a2 },
    gradients: { W1: gW1, gamma: gGamma, W2: gW2, b2: gb2, W3: gW3 },
  };
}

/** A deterministic pseudo-random stream (mulberry32), so tests need no seeded TF.js ops. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller) from a seeded stream. */
export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * SP initialisation (std 1/√fan_in, γ = 1, b2 small) from a seed; with `mup`
 * the readout std is further divided by √(width / baseWidth) (docs/mup2-explained.md, "µP itself").
 */
export function float64Init(
  shape: Float64MlpShape,
  seed: number,
  options: { baseWidth?: number } = {},
): Float64MlpParams {
  const normal = seededNormal(seed);
  const shapes = float64Shapes(shape);
  const draw = (size: number, std: number) => Float64Array.from({ length: size }, () => normal() * std);
  const readoutScale = options.baseWidth ? Math.sqrt(shape.width / options.baseWidth) : 1;
  return {
    W1: draw(shapes.W1[0]! * shapes.W1[1]!, 1 / Math.sqrt(shape.inputSize)),
    gamma: Float64Array.from({ length: shape.width }, () => 1 + 0.1 * normal()),
    W2: draw(shape.width * shape.width, Math.sqrt(2 / shape.width)),
    b2: draw(shape.width, 0.1),
    W3: draw(shape.width * shape.classes, 1 / Math.sqrt(shape.width) / readoutScale),
  };
}
