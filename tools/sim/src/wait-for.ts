/**
 * Polls `check` until it holds or `timeoutMs` passes: the simulator waits for conditions, never
 * for fixed sleeps.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 30_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
