// Runs a handler the way Lambda bounds it: outcome is a value, an error, or a timeout (the work is not killed).
export type Invocation<T> =
  | { status: 'ok'; value: T }
  | { status: 'error'; error: unknown }
  | { status: 'timeout' };

export async function invokeWithTimeout<T>(
  work: () => Promise<T>,
  timeoutMs: number,
): Promise<Invocation<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Invocation<T>>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'timeout' }), timeoutMs);
  });
  // Promise.resolve().then: a handler that throws synchronously is an error outcome too.
  const run = Promise.resolve()
    .then(work)
    .then(
      (value): Invocation<T> => ({ status: 'ok', value }),
      (error: unknown): Invocation<T> => ({ status: 'error', error }),
    );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
