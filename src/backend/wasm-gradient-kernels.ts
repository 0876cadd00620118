/** Placeholder: registration of the gradient kernels tfjs-backend-wasm lacks (filled in by the kernels work). */
export function registerWasmGradientKernels(): void {}
