/**
 * `mode-connectivity/backend`: choosing the TensorFlow.js compute backend, and the gradient
 * kernels this toolkit registers for the wasm backend (tested against the cpu backend).
 *
 * @module mode-connectivity/backend
 */
export { initBackend, backendFromEnv, parseBackendName, BACKEND_NAMES, AUTO_ORDER, type BackendName, type BackendChoice, type SkippedBackend, type InitBackendOptions } from '../backend/init-backend.js';
export type { ConcreteBackendName, BackendLoader, BackendLoaders, StartedBackend } from '../backend/select-backend.js';
export { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from '../backend/wasm-gradient-kernels.js';
export { WasmAllocationError, describeWasmFailure } from '../backend/wasm-failure.js';
