import { createServer } from "node:net";
import { AuthModeSwitchRefused } from "../../registry/auth/auth-mode";
import { ConfigError } from "../../registry/config";
import { DataDirLockedError } from "../../registry/db/data-dir-lock";
import { MetricsListenError } from "../../registry/ops/metrics-listener";
import { BlobStoreUnavailableError } from "../../registry/storage/open";
import { describeStartupFailure } from "../../registry/startup-failure";
import { takePort, type TakenPort } from "../support/taken-port";

/** The error Node itself gives when a server cannot listen there. */
async function listenError(host: string, port: number): Promise<Error> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once("error", resolve);
    server.listen(port, host, () => server.close(() => reject(new Error(`${host}:${port} was free`))));
  });
}

describe("describeStartupFailure", () => {
  let taken: TakenPort;
  let port: number;
  beforeAll(async () => {
    taken = await takePort();
    port = taken.port;
  });
  afterAll(() => taken.release());

  it("names BERTH_ADDR when the port is taken", async () => {
    const error = await listenError("127.0.0.1", port);
    expect(describeStartupFailure(error, { host: "127.0.0.1", port })).toEqual({
      line: `berth: cannot listen on 127.0.0.1:${port} (BERTH_ADDR): address already in use`,
      exitCode: 2,
    });
  });

  it("names BERTH_ADDR when the address is not this host's", async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a local interface.
    const error = await listenError("192.0.2.1", port);
    expect(describeStartupFailure(error, { host: "192.0.2.1", port }).line).toBe(
      `berth: cannot listen on 192.0.2.1:${port} (BERTH_ADDR): address not available on this host`,
    );
  });

  it("names BERTH_METRICS_ADDR, not BERTH_ADDR, when the metrics port is taken", async () => {
    const error = new MetricsListenError("127.0.0.1", port, "EADDRINUSE", await listenError("127.0.0.1", port));
    expect(describeStartupFailure(error, { host: "0.0.0.0", port: 5000 })).toEqual({
      line: `berth: cannot listen on 127.0.0.1:${port} (BERTH_METRICS_ADDR; off serves no metrics): address already in use`,
      exitCode: 2,
    });
  });

  it("writes IPv6 hosts in brackets", () => {
    const error = Object.assign(new Error("listen EACCES"), { code: "EACCES", syscall: "listen" });
    expect(describeStartupFailure(error, { host: "::1", port: 80 })).toEqual({
      line: "berth: cannot listen on [::1]:80 (BERTH_ADDR): permission denied (ports below 1024 need privileges)",
      exitCode: 2,
    });
  });

  it("asks for a change of setup (exit 2) for configuration, blob store and data dir refusals", () => {
    expect(describeStartupFailure(new ConfigError("BERTH_ADDR", "bad"))).toEqual({ line: "berth: invalid configuration: BERTH_ADDR: bad", exitCode: 2 });
    expect(describeStartupFailure(new BlobStoreUnavailableError("no bucket"))).toEqual({ line: "berth: cannot start: no bucket", exitCode: 2 });
    const locked = new DataDirLockedError("/srv/berth", { pid: 42, started: null, command: "serve" });
    expect(describeStartupFailure(locked)).toEqual({ line: `berth: ${locked.message}`, exitCode: 2 });
    expect(describeStartupFailure(new AuthModeSwitchRefused("switch refused"))).toEqual({ line: "berth: cannot start: switch refused", exitCode: 2 });
  });

  it("reduces anything else to the first line of its message, exit 1", () => {
    expect(describeStartupFailure(new Error("migration 007 failed\n  at somewhere"))).toEqual({ line: "berth: cannot start: migration 007 failed", exitCode: 1 });
    expect(describeStartupFailure("plain")).toEqual({ line: "berth: cannot start: plain", exitCode: 1 });
  });
});
