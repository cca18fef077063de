/**
 * /metrics is the operator's, not the public's (issue 15, finding 12): it answers on BERTH_METRICS_ADDR, its own
 * listener (loopback by default), and the registry port answers it 404 like any unknown path.
 */
import { loadConfig } from "../../../registry/config";
import { MetricsListenError } from "../../../registry/ops/metrics-listener";
import { startServer } from "../../../registry/server";
import { ADMIN_AUTH, prepareEnvironment, startBerth, type TestBerth } from "../../support/berth";
import { takePort, type TakenPort } from "../../support/taken-port";

describe("metrics on their own listener", () => {
  let berth: TestBerth;
  beforeAll(async () => {
    berth = await startBerth();
  });
  afterAll(() => berth.close());

  it("answers /metrics on the registry port with 404 and Harbor's error body, whoever asks", async () => {
    for (const headers of [{}, { Authorization: ADMIN_AUTH }] as Record<string, string>[]) {
      const response = await fetch(`${berth.url}/metrics`, { headers });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ errors: [{ code: "NOT_FOUND", message: "no such endpoint: GET /metrics" }] });
    }
  });

  it("serves the registry's request counts on the metrics address, a port of its own", async () => {
    expect(berth.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(berth.metricsUrl!).port).not.toBe(new URL(berth.url).port);
    await fetch(`${berth.url}/v2/`, { headers: { Authorization: ADMIN_AUTH } });
    const response = await fetch(`${berth.metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    expect(await response.text()).toMatch(/berth_http_requests_total\{method="GET",route="\/v2\/",status="200"\} [1-9]/);
  });

  it("serves nothing else there: the registry's routes stay on the registry port", async () => {
    for (const path of ["/", "/api/v2.0/health", "/v2/", "/metrics/x"]) {
      const response = await fetch(`${berth.metricsUrl}${path}`);
      expect(response.status).toBe(404);
      await response.arrayBuffer();
    }
    expect((await fetch(`${berth.metricsUrl}/metrics`, { method: "POST" })).status).toBe(404);
  });

  it("gives a second server on the same machine a metrics port of its own", async () => {
    const second = await startBerth();
    try {
      expect(second.metricsUrl).not.toBe(berth.metricsUrl);
      expect((await fetch(`${second.metricsUrl}/metrics`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe("a metrics port that is taken", () => {
  let taken: TakenPort;
  let port: number;
  beforeAll(async () => {
    taken = await takePort();
    port = taken.port;
  });
  afterAll(() => taken.release());

  it("stops the start before the registry port opens; with BERTH_METRICS_ADDR=off the same data starts, serving no metrics", async () => {
    const environment = await prepareEnvironment({ BERTH_METRICS_ADDR: `127.0.0.1:${port}` });
    try {
      const error = await startServer(loadConfig(environment.env)).then(() => null, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(MetricsListenError);
      expect(error).toMatchObject({ host: "127.0.0.1", port, code: "EADDRINUSE" });
      // Nothing was left open (the data dir's lock included): the same data starts at once without metrics.
      const server = await startServer(loadConfig({ ...environment.env, BERTH_METRICS_ADDR: "off" }));
      try {
        expect(server.metricsUrl).toBeUndefined();
        expect((await fetch(`${server.url}/api/v2.0/health`)).status).toBe(200);
        expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      } finally {
        await server.close();
      }
    } finally {
      await environment.cleanup();
    }
  });
});
