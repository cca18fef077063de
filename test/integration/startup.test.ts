import { createServer } from "node:net";
import { ADMIN_PASSWORD, prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";

/** Runs a child `berth serve` and always stops it, whatever the test does. */
async function withServer<T>(env: Record<string, string>, fn: (server: BerthProcess) => Promise<T>): Promise<T> {
  const server = await spawnBerth(env);
  try {
    return await fn(server);
  } finally {
    await server.kill("SIGTERM");
  }
}

describe("berth serve", () => {
  it("prints a generated admin password on the first start only, and it works", async () => {
    const { env, cleanup } = await prepareEnvironment({});
    delete env.BERTH_ADMIN_PASSWORD;
    try {
      const password = await withServer(env, async (server) => {
        const match = /user "admin" was created with password (\S+)/.exec(server.output());
        expect(match).not.toBeNull();
        const auth = `Basic ${Buffer.from(`admin:${match![1]}`).toString("base64")}`;
        expect((await fetch(`${server.url}/v2/`, { headers: { Authorization: auth } })).status).toBe(200);
        return match![1];
      });
      await withServer(env, async (server) => {
        expect(server.output()).not.toContain("was created with password");
        expect(server.output()).not.toContain(password);
      });
    } finally {
      await cleanup();
    }
  });

  it("never writes credentials to its log", async () => {
    const { env, cleanup } = await prepareEnvironment({ BERTH_LOG_LEVEL: "trace" });
    const basic = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64");
    const wrong = Buffer.from("admin:Wrong-Secret-999").toString("base64");
    try {
      await withServer(env, async (server) => {
        await fetch(`${server.url}/v2/`, { headers: { Authorization: `Basic ${basic}` } });
        await fetch(`${server.url}/v2/`, { headers: { Authorization: `Basic ${wrong}` } });
        await fetch(`${server.url}/api/v2.0/projects`, {
          method: "POST",
          headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/json" },
          body: JSON.stringify({ project_name: "logged" }),
        });
        const log = server.output();
        expect(log).toContain('"url":"/v2/"'); // the requests were logged…
        for (const secret of [ADMIN_PASSWORD, basic, "Wrong-Secret-999", wrong]) expect(log).not.toContain(secret); // …without secrets
      });
    } finally {
      await cleanup();
    }
  });

  it("says where metrics are served when ready, and serves them there only", async () => {
    const { env, cleanup } = await prepareEnvironment({});
    try {
      await withServer(env, async (server) => {
        expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect((await fetch(`${server.metricsUrl}/metrics`)).status).toBe(200);
        expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      });
    } finally {
      await cleanup();
    }
  });

  it("exits with code 2 naming BERTH_METRICS_ADDR when the metrics port is taken", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as { port: number };
    const { env, cleanup } = await prepareEnvironment({ BERTH_METRICS_ADDR: `127.0.0.1:${port}` });
    try {
      await expect(spawnBerth(env)).rejects.toThrow(new RegExp(`exited with 2[\\s\\S]*cannot listen on 127\\.0\\.0\\.1:${port} \\(BERTH_METRICS_ADDR`));
    } finally {
      await cleanup();
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it("exits with code 2 and names the variable when the configuration is invalid", async () => {
    const { env, cleanup } = await prepareEnvironment({ BERTH_ADDR: "abc" });
    try {
      await expect(spawnBerth(env)).rejects.toThrow(/exited with 2[\s\S]*BERTH_ADDR/);
    } finally {
      await cleanup();
    }
  });
});
