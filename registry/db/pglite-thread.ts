import { Worker } from "node:worker_threads";

/**
 * PGlite in a worker thread. PGlite runs PostgreSQL as WebAssembly inside the calling thread: on the main thread, every
 * statement held the event loop for as long as it ran (a 4 MB manifest with 5 000 references: over a second, with every
 * other request waiting). In a worker, only the messages cross the main thread. Statements still run one at a time
 * (PGlite is one database session); the caller orders them.
 */

/** What the worker runs. A plain script (not a compiled module), so that the same code runs from dist/ and under ts-jest. */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
const { PGlite } = require(workerData.pglitePath);
const BYTEA = 17;
// BYTEA parameters go to PostgreSQL as they are, in the binary format (PGlite sends any typed array that way), and
// results come back from hex in native code. PGlite's own converters go byte by byte through a JS array of strings:
// a 4 MB manifest took ~1 s to store and made ~250 MB of garbage, and as long to read back.
const serializers = {
  [BYTEA]: (value) => {
    if (!(value instanceof Uint8Array)) throw new TypeError("a BYTEA parameter must be a Buffer or Uint8Array");
    return value;
  },
};
const parsers = { [BYTEA]: (text) => Buffer.from(text.slice(2), "hex") };
let db;

// A database error keeps its fields (code, detail, constraint …) but not the statement's parameters (a 4 MB manifest).
function errorFields(error) {
  const fields = { message: String(error && error.message !== undefined ? error.message : error), name: error && error.name };
  if (error && typeof error === "object") {
    for (const [key, value] of Object.entries(error)) {
      if (key !== "params" && key !== "queryOptions" && key !== "query" && (typeof value === "string" || typeof value === "number")) fields[key] = value;
    }
  }
  return fields;
}

async function handle(request) {
  switch (request.op) {
    case "open": {
      const { dataDir, sharedBuffersMb } = request.options;
      const startParams = sharedBuffersMb === undefined ? undefined : [...PGlite.defaultStartParams, "-c", "shared_buffers=" + sharedBuffersMb + "MB"];
      db = await PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), ...(startParams ? { startParams } : {}), serializers, parsers });
      return [];
    }
    case "exec": {
      // The simple protocol, like pg without parameters: allows several statements (migrations).
      const results = await db.exec(request.text);
      return results.length === 0 ? [] : results[results.length - 1].rows;
    }
    case "query":
      return (await db.query(request.text, request.params)).rows;
    case "close":
      await db.close();
      return [];
  }
  throw new Error("unknown request " + request.op);
}

parentPort.on("message", (request) => {
  handle(request).then(
    (rows) => {
      parentPort.postMessage({ id: request.id, rows });
      if (request.op === "close") parentPort.close();
    },
    (error) => parentPort.postMessage({ id: request.id, error: errorFields(error) }),
  );
});
`;

export interface ThreadOptions {
  /** Where the database lives; in memory when undefined. */
  dataDir?: string;
  /** PostgreSQL's shared_buffers in MB; PGlite's default when undefined. */
  sharedBuffersMb?: number;
}

type Request = { op: "open"; options: ThreadOptions } | { op: "exec"; text: string } | { op: "query"; text: string; params: readonly unknown[] } | { op: "close" };
type Reply = { id: number; rows?: Record<string, unknown>[]; error?: Record<string, unknown> & { message: string } };

export class PgliteThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(rows: Record<string, unknown>[]): void; reject(error: Error): void }>();
  private exited: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: Reply) => this.settle(reply));
    worker.on("error", (error) => this.fail(new Error(`the embedded database thread failed: ${error.message}`)));
    worker.on("exit", (code) => this.fail(new Error(`the embedded database thread exited (code ${code})`)));
    // Idle, the thread does not keep the process alive (PGlite in the main thread did not either); busy, it does.
    worker.unref();
  }

  /** Starts the thread and opens the database in it. */
  static async open(options: ThreadOptions): Promise<PgliteThread> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pglitePath: require.resolve("@electric-sql/pglite") } });
    const thread = new PgliteThread(worker);
    try {
      await thread.send({ op: "open", options });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return thread;
  }

  send(request: Request): Promise<Record<string, unknown>[]> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Throws (and nothing is pending) when a parameter cannot be copied to the thread, e.g. a function.
      this.worker.postMessage({ ...request, id });
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error) {
      const { message, ...fields } = reply.error;
      waiter.reject(Object.assign(new Error(message), fields));
    } else {
      waiter.resolve(reply.rows ?? []);
    }
  }

  private fail(error: Error): void {
    this.exited ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  /** Closes the database, then ends the thread. */
  async close(): Promise<void> {
    try {
      await this.send({ op: "close" });
    } finally {
      this.exited ??= new Error("the embedded database is closed");
      await this.worker.terminate();
    }
  }
}
