/** The request log never holds a credential a client put in the URL (`?access_token=` and the like). */
import { prepareEnvironment, spawnBerth, type BerthProcess } from "../../support/berth";
import { waitUntil } from "../../support/wait";

let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let berth: BerthProcess;
beforeAll(async () => {
  environment = await prepareEnvironment({});
  berth = await spawnBerth(environment.env);
}, 120_000);
afterAll(async () => {
  await berth?.kill("SIGTERM");
  await environment?.cleanup();
});

it("logs the request with the token's value redacted", async () => {
  const secret = "eyJhbGciOiJFUzI1NiJ9.do-not-log-me.sig";
  expect((await fetch(`${berth.url}/v2/library/app/tags/list?access_token=${secret}&n=5`)).status).toBe(404);
  await waitUntil(() => berth.output().includes('"url":"/v2/library/app/tags/list?access_token=[redacted]&n=5"'), "the request to be logged");
  expect(berth.output()).not.toContain("do-not-log-me");
});
