/**
 * The built `berth` refuses what would hurt it: a second process on an embedded database, a port someone else
 * holds, a bare `berth` that would silently start a server. Each refusal is one line and exit code 2; a server
 * killed with SIGKILL does not leave a lock that blocks the next start.
 */
import { createServer } from "node:net";
import { prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { runCli } from "../support/cli";

type Environment = Awaited<ReturnType<typeof prepareEnvironment>>;

/** The environment with the embedded database, whatever the suite runs on: only PGlite is locked. */
function embedded(environment: Environment): Record<string, string> {
  const { BERTH_DATABASE_URL: _url, ...env } = environment.env;
  return env;
}

function oneLine(text: string): string {
  expect(text.endsWith("\n")).toBe(true);
  expect(text.trimEnd()).not.toContain("\n");
  return text.trimEnd();
}

// One data dir for the whole file, so the embedded database is created once (initdb is the slow part of a start).
describe("process safety", () => {
  let environment: Environment;
  let server: BerthProcess | undefined;
  beforeAll(async () => {
    environment = await prepareEnvironment({});
    // Creates the embedded database (doctor opens it, then reports the migrations a first serve applies), so that
    // the servers below start within spawnBerth's limit even on a busy machine.
    await runCli("berth", ["doctor"], embedded(environment));
  }, 180_000);
  afterAll(async () => {
    await server?.kill("SIGKILL");
    await environment?.cleanup();
  });

  it("refuses a second serve and a doctor on an embedded data dir in use, naming the directory and the pid", async () => {
    server = await spawnBerth(embedded(environment));
    const pid = server.child.pid!;
    const expected = `berth: the embedded database in ${environment.dataDir} is in use by \`berth serve\` (pid ${pid}): stop that process first, or set BERTH_DATA_DIR to another directory`;

    const second = await runCli("berth", ["serve"], embedded(environment));
    expect(second.code).toBe(2);
    expect(oneLine(second.stderr)).toBe(expected);

    const doctor = await runCli("berth", ["doctor"], embedded(environment));
    expect(doctor.code).toBe(2);
    expect(oneLine(doctor.stderr)).toBe(expected);
    expect(doctor.stdout).toBe("");

    // The refusals changed nothing: the running server still answers.
    expect((await fetch(`${server.url}/api/v2.0/health`)).status).toBe(200);
  }, 180_000);

  it("starts after the server on the same data dir was killed with SIGKILL, and frees the dir on a clean stop", async () => {
    await server!.kill("SIGKILL");
    server = await spawnBerth(embedded(environment));
    expect((await fetch(`${server.url}/api/v2.0/health`)).status).toBe(200);
    await server.kill("SIGTERM");
    server = undefined;

    const doctor = await runCli("berth", ["doctor"], embedded(environment));
    expect(doctor.stdout).toMatch(/^ok {3}database: pglite answers in /m);
    expect(doctor.code).toBe(0);
  }, 180_000);

  it("prints the usage and exits with 2 when no command is given", async () => {
    const result = await runCli("berth", [], environment.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage: berth <command>\n/);
    expect(result.stderr).toContain("serve    run the registry");
    expect(result.stdout).toBe("");
  }, 60_000);

  it("refuses a listen address in use with one line naming BERTH_ADDR and exit code 2, without a stack", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as { port: number };
    try {
      const result = await runCli("berth", ["serve"], { ...environment.env, BERTH_ADDR: `127.0.0.1:${port}` });
      expect(result.code).toBe(2);
      expect(oneLine(result.stderr)).toBe(`berth: cannot listen on 127.0.0.1:${port} (BERTH_ADDR): address already in use`);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  }, 180_000);
});
