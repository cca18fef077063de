#!/usr/bin/env node
import { ConfigError, loadConfig } from "./config";
import { startServer } from "./server";
import { BlobStoreUnavailableError } from "./storage/open";
import { doctor, formatFindings } from "./doctor";
import { startEmbeddedController } from "../controller/embedded";
import { MIGRATE_USAGE, runMigrate } from "./migrate/cli";

const USAGE = `usage: berth <command>

commands:
  serve    run the registry (settings from BERTH_* environment variables; see README.md)
  migrate  copy repositories from another registry (berth migrate --help)
  doctor   check the database, migrations, blob store (read and write) and clock; say what to fix (exit 1 if any)
  help     show this text`;

async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`berth: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const embedded = config.controller.repo !== "off";
  let server;
  try {
    server = await startServer(config, { internalAccess: embedded });
  } catch (error) {
    if (error instanceof BlobStoreUnavailableError) {
      process.stderr.write(`berth: cannot start: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (server.generatedAdminPassword) {
    // Printed once, to the terminal only: it is not stored anywhere in clear text.
    process.stdout.write(
      `\n  First start: user "admin" was created with password ${server.generatedAdminPassword}\n` +
        `  Keep it now; it will not be shown again (set BERTH_ADMIN_PASSWORD to choose it yourself).\n\n`,
    );
  }
  server.app.log.info({ url: server.url, dataDir: config.dataDir, database: server.sql.kind, storage: config.storage.kind }, "berth is ready");
  const controller = embedded
    ? await startEmbeddedController({
        url: server.url,
        authorization: server.internalAuthorization!,
        repo: config.controller.repo,
        branch: config.controller.branch,
        schedule: config.controller.schedule,
        pollSeconds: config.controller.pollSeconds,
        dataDir: config.dataDir,
        log: (level, message) => server.app.log[level]({ component: "controller" }, message),
      })
    : null;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, "shutting down: finishing in-flight requests");
    (controller?.stop() ?? Promise.resolve()).then(() => server.close()).then(
      () => process.exit(0),
      (error) => {
        server.app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? "serve";
  switch (command) {
    case "serve":
      return serve();
    case "doctor": {
      let config;
      try {
        config = loadConfig();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`berth: invalid configuration: ${error.message}\n`);
        process.exit(2);
      }
      const findings = await doctor(config);
      process.stdout.write(formatFindings(findings));
      process.exit(findings.every((f) => f.ok) ? 0 : 1);
    }
    case "migrate":
      if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(`${MIGRATE_USAGE}\n`);
        return;
      }
      process.exit(await runMigrate(argv.slice(1)));
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      process.stderr.write(`berth: unknown command "${command}"\n${USAGE}\n`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`berth: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
