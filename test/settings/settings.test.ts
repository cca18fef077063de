import { migrate } from "../../registry/db/migrate";
import { CACHE_TTL_MS } from "../../registry/db/read-cache";
import { SettingRefused, Settings } from "../../registry/settings/settings";
import { parseSettingText } from "../../registry/settings/definitions";
import { twoNodeSetups, type Nodes } from "../support/database";

describe.each(twoNodeSetups())("run-time settings (%s)", (_name, open) => {
  let nodes: Nodes;
  beforeAll(async () => {
    nodes = await open();
    await migrate(nodes.a);
  });
  afterEach(() => nodes.a.query("DELETE FROM configurations"));
  afterAll(() => nodes.cleanup());

  it("has defaults until an admin stores a value, which the other node sees once its cache lapses", async () => {
    let clock = 0;
    const a = new Settings(nodes.a, {});
    const b = new Settings(nodes.b, {}, () => clock);
    expect(await b.get("read_only")).toBe(false);
    expect(await b.chosen("project_creation_restriction")).toBeUndefined();
    expect(await a.update(nodes.a, { read_only: true, storage_per_project: 1024 })).toEqual(["read_only", "storage_per_project"]);
    expect(await a.get("read_only")).toBe(true);
    // Node b still answers from its cache; past the cache's lifetime it reads the change.
    expect(await b.get("read_only")).toBe(false);
    clock += CACHE_TTL_MS;
    expect(await b.get("read_only")).toBe(true);
    expect(await b.get("storage_per_project")).toBe(1024);
    // Storing the same value again changes nothing.
    expect(await a.update(nodes.a, { read_only: true })).toEqual([]);
  });

  it("refuses unknown keys, bad values and keys fixed by the environment, writing nothing", async () => {
    const settings = new Settings(nodes.a, { robot_token_duration: 7 });
    await expect(settings.update(nodes.a, { read_only: true, colour: "blue" })).rejects.toThrow(/colour is not a setting Berth has/);
    await expect(settings.update(nodes.a, { read_only: "yes" })).rejects.toThrow("read_only must be true or false");
    await expect(settings.update(nodes.a, { storage_per_project: 0 })).rejects.toThrow(/storage_per_project must be -1 \(unlimited\)/);
    await expect(settings.update(nodes.a, { audit_log_forward_endpoint: "http://x" })).rejects.toThrow(/must be "host:port"/);
    await expect(settings.update(nodes.a, { robot_token_duration: 9 })).rejects.toThrow(new SettingRefused("robot_token_duration is set by the environment (BERTH_ROBOT_TOKEN_DURATION) and cannot be changed here"));
    expect(await nodes.a.query("SELECT key FROM configurations")).toEqual([]);
    expect(await settings.get("robot_token_duration")).toBe(7);
  });

  it("reads BERTH_<KEY> texts as the values the API takes", () => {
    expect(parseSettingText("read_only", "true")).toBe(true);
    expect(parseSettingText("storage_per_project", "-1")).toBe(-1);
    expect(parseSettingText("audit_log_forward_endpoint", "udp://[::1]:514")).toBe("udp://[::1]:514");
    expect(parseSettingText("robot_token_duration", "soon")).toEqual({ error: expect.stringMatching(/whole number of days/) });
  });
});

describe("the settings cache", () => {
  it("keeps nothing read before a change through this node (a read racing the change's commit)", async () => {
    const answers: ((rows: unknown[]) => void)[] = [];
    const db = { query: () => new Promise<unknown[]>((resolve) => answers.push(resolve)) } as never;
    const settings = new Settings(db, {});
    const early = settings.get("read_only");
    settings.forget();
    const late = settings.get("read_only");
    expect(answers).toHaveLength(2);
    answers[0]([]);
    expect(await early).toBe(false);
    answers[1]([{ key: "read_only", value: true }]);
    expect(await late).toBe(true);
    // The late read is the one cached: no query now.
    expect(await settings.get("read_only")).toBe(true);
    expect(answers).toHaveLength(2);
  });
});
