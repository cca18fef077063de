#!/usr/bin/env node
import { loadConfig, type Config } from "./config";
import { startServer } from "./server";
import { doctor, formatFindings } from "./doctor";
import { describeStartupFailure } from "./startup-failure";
import { restrictFileCreation } from "./secrets/private-data-dir";
import { applyHeapGrowth } from "./ops/heap-growth";

const USAGE = `usage: berth <command>

commands:
  serve    run the registry (settings from BERTH_* environment variables; see README.md)
  migrate  copy repositories from another registry (berth migrate --help)
  vulndb   import OSV vulnerability data into the running registry, show its status (berth vulndb --help)
  doctor   check the database, migrations, blob store (read and write) and clock; say what to fix (exit 1 if any)
  help     show this text`;

/** One line saying what to change, and the exit code; the stack only when asked for (BERTH_LOG_LEVEL=debug). */
function refuseToStart(error: unknown, config?: Config): never {
  const { line, exitCode } = describeStartupFailure(error, config);
  process.stderr.write(`${line}\n`);
  if ((config?.logLevel === "debug" || config?.logLevel === "trace") && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exit(exitCode);
}

function configOrRefuse(): Config {
  try {
    return loadConfig();
  } catch (error) {
    refuseToStart(error);
  }
}

async function serve(): Promise<void> {
  const config = configOrRefuse();
  applyHeapGrowth(config.heapGrowthPercent);
  const embedded = config.controller.repo !== "off";
  let server;
  try {
    server = await startServer(config, { internalAccess: embedded });
  } catch (error) {
    refuseToStart(error, config);
  }
  if (server.generatedAdminPassword) {
    // Printed once, to the terminal only: it is not stored anywhere in clear text.
    process.stdout.write(
      `\n  First start: user "admin" was created with password ${server.generatedAdminPassword}\n` +
        `  Keep it now; it will not be shown again (set BERTH_ADMIN_PASSWORD to choose it yourself).\n\n`,
    );
  }
  server.app.log.info({ url: server.url, metricsUrl: server.metricsUrl ?? "off", mirrorUrl: server.mirrorUrl ?? "off", dataDir: config.dataDir, database: server.sql.kind, storage: config.storage.kind }, "berth is ready");
  // Loaded only when on (and `migrate` only for migrate): their YAML, JSON Schema and git modules cost memory.
  const controller = embedded
    ? await (await import("../controller/embedded")).startEmbeddedController({
        url: server.url,
        authorization: server.internalAuthorization!,
        fetch: server.loopbackFetch,
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
  // Before anything opens the data directory: the database, blobs and keys must not be readable by other users.
  restrictFileCreation();
  const command = argv[0];
  switch (command) {
    case undefined:
      // Starting a server is a decision: a bare `berth` (a typo, a missing argument in a unit file) only explains.
      process.stderr.write(`${USAGE}\n`);
      process.exit(2);
    case "serve":
      return serve();
    case "doctor": {
      const config = configOrRefuse();
      let findings;
      try {
        findings = await doctor(config);
      } catch (error) {
        refuseToStart(error, config);
      }
      process.stdout.write(formatFindings(findings));
      process.exit(findings.every((f) => f.ok) ? 0 : 1);
    }
    case "migrate": {
      const { MIGRATE_USAGE, runMigrate } = await import("./migrate/cli");
      if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(`${MIGRATE_USAGE}\n`);
        return;
      }
      process.exit(await runMigrate(argv.slice(1)));
    }
    case "vulndb": {
      const { runVulnDb } = await import("./scanning/vulndb/cli");
      process.exit(await runVulnDb(argv.slice(1)));
    }
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
