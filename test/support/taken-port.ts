import { createServer } from "node:http";

/** A port on 127.0.0.1 held by a listener of the test's own, for tests of what a start does when its port is taken. */
export interface TakenPort {
  port: number;
  release(): Promise<void>;
}

export async function takePort(): Promise<TakenPort> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  return {
    port: (holder.address() as { port: number }).port,
    release: () => new Promise<void>((resolve) => holder.close(() => resolve())),
  };
}
