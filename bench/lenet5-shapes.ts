/** Parameter shapes (NHWC/HWIO) of the raw-op LeNet-5 that bench/wasm-lenet5.ts times. */
export const SHAPES: Record<string, number[]> = {
  conv1W: [5, 5, 1, 6],
  conv1B: [6],
  conv2W: [5, 5, 6, 16],
  conv2B: [16],
  fc1W: [400, 120],
  fc1B: [120],
  fc2W: [120, 84],
  fc2B: [84],
  fc3W: [84, 10],
  fc3B: [10],
};
