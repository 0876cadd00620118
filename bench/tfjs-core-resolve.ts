/**
 * Imported first by the LeNet5 micro-benchmarks, before they import tfjs-core dynamically.
 *
 * tfjs-core ships its gradient registrations (imported by init-backend.ts) only as ESM with
 * extensionless and directory imports (`./gradients`), which Node's ESM resolver and tsx refuse;
 * this resolve hook retries such relative imports inside tfjs-core/dist with `.js` and `/index.js`.
 */
import { register } from 'node:module';

const RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const code = error && error.code;
    const parent = context.parentURL || '';
    if ((code === 'ERR_UNSUPPORTED_DIR_IMPORT' || code === 'ERR_MODULE_NOT_FOUND') && specifier.startsWith('.') && parent.includes('/@tensorflow/tfjs-core/dist/')) {
      for (const suffix of ['.js', '/index.js']) {
        try { return await next(specifier + suffix, context); } catch {}
      }
    }
    throw error;
  }
}`;
register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
