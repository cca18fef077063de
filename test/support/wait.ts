/**
 * Waits for a condition the server reaches on its own after a client has gone (a truncated chunk, a cancelled
 * session). The deadline only turns a hang into a readable failure; nothing is asserted about how long it took.
 */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 30_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
