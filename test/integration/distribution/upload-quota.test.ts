/**
 * A project's quota is checked as PATCH bytes arrive: a chunk that would take the upload past what the project has
 * left is refused with 403 DENIED before it is stored, and the session keeps its size from before the chunk.
 */
import { startBerth, type TestBerth } from "../../support/berth";
import { RegistryClient } from "../../support/registry-client";

const MiB = 1024 * 1024;
let berth: TestBerth;
let admin: RegistryClient;
beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  const created = await admin.fetch("/api/v2.0/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ project_name: "tiny", storage_limit: MiB }) });
  expect(created.status).toBe(201);
});
afterAll(() => berth.close());

const patch = (location: string, body: Buffer, start: number) =>
  admin.fetch(location, { method: "PATCH", headers: { "Content-Type": "application/octet-stream", "Content-Range": `${start}-${start + body.length - 1}` }, body });

it("refuses the chunk that would pass the quota, keeping what came before", async () => {
  const location = await admin.startUpload("tiny/app");
  const first = await patch(location, Buffer.alloc(MiB / 2, 1), 0);
  expect(first.status).toBe(202);
  const next = await admin.fetch(first.headers.get("location")!, { method: "PATCH", headers: { "Content-Type": "application/octet-stream" }, body: Buffer.alloc(8 * MiB, 2) });
  expect(next.status).toBe(403);
  expect(((await next.json()) as { errors: { code: string; message: string }[] }).errors[0]).toMatchObject({ code: "DENIED", message: expect.stringContaining("storage quota") });
  expect(await admin.uploadedSize(first.headers.get("location")!)).toBe(MiB / 2);
});

it("leaves projects without a limit alone", async () => {
  const location = await admin.startUpload("library/big");
  expect((await patch(location, Buffer.alloc(3 * MiB, 3), 0)).status).toBe(202);
});
