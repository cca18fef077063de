/**
 * One caller cannot hold an unbounded number of upload sessions: past BERTH_MAX_UPLOADS_PER_USER a new session is
 * refused with 429 TOOMANYREQUESTS, other callers are not affected, and finishing or cancelling one frees a place.
 */
import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_MAX_UPLOADS_PER_USER: "3" } });
  admin = new RegistryClient(berth.url);
});
afterAll(() => berth.close());

it("refuses a caller's session past the limit with TOOMANYREQUESTS, and frees a place when one is cancelled", async () => {
  const open = await Promise.all([1, 2, 3].map(() => admin.startUpload("library/limited")));
  const refused = await admin.fetch("/v2/library/limited/blobs/uploads/", { method: "POST" });
  expect(refused.status).toBe(429);
  expect(((await refused.json()) as { errors: { code: string; message: string }[] }).errors[0]).toMatchObject({
    code: "TOOMANYREQUESTS",
    message: "admin has 3 upload sessions open already (BERTH_MAX_UPLOADS_PER_USER): finish or cancel some first",
  });

  // A monolithic upload opens no lasting session, and another caller has places of its own.
  expect(await admin.pushBlob("library/limited", Buffer.from("monolithic"))).toMatch(/^sha256:/);
  await admin.createUser("carol", "Carol-Passw0rd-1");
  await admin.addMember("library", "carol", 2);
  const carol = new RegistryClient(berth.url, basicAuth("carol", "Carol-Passw0rd-1"));
  expect((await carol.fetch("/v2/library/limited/blobs/uploads/", { method: "POST" })).status).toBe(202);

  expect((await admin.fetch(open[0], { method: "DELETE" })).status).toBe(204);
  expect((await admin.fetch("/v2/library/limited/blobs/uploads/", { method: "POST" })).status).toBe(202);
});
