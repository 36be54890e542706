import { initBackend } from '@mup2/core';

/**
 * The one line a long command starts with: the backend it trains on, and on wasm, when nobody asked
 * for wasm, that the native backend is missing and what that costs (the README's set-up builds it
 * where it can). `requested` is the command's --backend; MUP2_BACKEND counts as a request too.
 */
export function backendLine(backend: string, requested: string | undefined, environment = process.env): string {
  const asked = requested ?? (environment.MUP2_BACKEND || undefined);
  if (backend === 'tensorflow') {
    const threads = environment.TF_NUM_INTRAOP_THREADS;
    return `Backend: tensorflow (native libtensorflow${threads ? `, ${threads} intra-op thread${threads === '1' ? '' : 's'} per process` : ''}).`;
  }
  if (asked !== undefined) return `Backend: ${backend} (requested).`;
  return (
    `Backend: ${backend}, because the native tensorflow backend is not installed here ` +
    '(pnpm native:install builds it, see docs/native-backend.md): this runs 3–7× slower than on it.'
  );
}

/** Initialises the backend of a command and returns it with its line (backendLine). */
export async function chooseCommandBackend(requested: string | undefined): Promise<{ backend: string; line: string }> {
  const backend = await initBackend({ backend: requested, log: () => {} });
  return { backend, line: backendLine(backend, requested) };
}
