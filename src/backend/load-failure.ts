/**
 * One short reason for a backend package that failed to load, from the error Node gave:
 *
 *   package absent                       → "package @tensorflow/tfjs-node not installed"
 *   libtensorflow.so / tfjs_binding.node → "libtensorflow missing (…)"
 *   any other shared library (libcudart) → "libcudart.so.11.0 missing (…)"
 *   anything else                        → its first line, at most 160 characters
 *
 * The original error stays attached as `cause` by the caller, so nothing is lost.
 */
export function describeLoadFailure(specifier: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(message);
  if (notFound && message.includes(specifier)) return `package ${specifier} not installed`;
  const library = /(lib[\w+-]+\.so[.\d]*)/.exec(message)?.[1];
  if (/libtensorflow|tfjs_binding\.node/.test(message)) {
    return `libtensorflow missing (${library ?? 'tfjs_binding.node not built at install'})`;
  }
  if (library !== undefined && /cannot open shared object file|not found|No such file/i.test(message)) {
    return `${library} missing (${firstLine(message).slice(0, 120)})`;
  }
  const line = firstLine(message);
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
