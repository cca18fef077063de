import type { FastifyInstance } from "fastify";
import { buildApp } from "./app";
import { bootstrap } from "./bootstrap";
import type { Config } from "./config";
import { loadSigningKey } from "./auth/token-keys";
import { migrate } from "./db/migrate";
import { openDatabase } from "./db/open";
import type { Sql } from "./db/sql";
import { openBlobStore } from "./storage/open";

export interface RunningServer {
  app: FastifyInstance;
  sql: Sql;
  /** Where the server listens, e.g. http://127.0.0.1:5000 */
  url: string;
  /** Set when the admin password was generated on this (first) start. */
  generatedAdminPassword?: string;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

/** Opens the database (migrating it), the blob store and the HTTP server, in that order. */
export async function startServer(config: Config, options: { sql?: Sql } = {}): Promise<RunningServer> {
  const sql = options.sql ?? (await openDatabase(config));
  try {
    await migrate(sql);
    const { generatedPassword } = await bootstrap(sql, config.adminPassword);
    const store = openBlobStore(config);
    const signingKey = await loadSigningKey(sql, config.tokenKeyFile);
    const app = await buildApp({ config, sql, store, signingKey });
    const address = await app.listen({ host: config.host, port: config.port });
    return {
      app,
      sql,
      url: address.replace("[::]", "127.0.0.1").replace("0.0.0.0", "127.0.0.1"),
      generatedAdminPassword: generatedPassword,
      close: async () => {
        await app.close();
        await sql.close();
      },
    };
  } catch (error) {
    await sql.close().catch(() => undefined);
    throw error;
  }
}
