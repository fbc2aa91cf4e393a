/** Polls `check` every `intervalMs` until it returns a value, the deadline passes, or `abort` says why not. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition', abort }: { timeoutMs?: number; intervalMs?: number; what?: string; abort?: () => string | undefined } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = abort?.();
    if (reason !== undefined) throw new Error(`gave up waiting for ${what}: ${reason}`);
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
