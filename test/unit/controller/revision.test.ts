import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { commitOf } from "../../../controller/policy/revision";
import { commitAll, createPolicyRepo, editFile, headOf } from "../../support/policy-repo";

const AUTHOR = { name: "Alice Example", email: "alice@example.com" };

describe("commitOf", () => {
  let repo: string;
  beforeEach(async () => {
    repo = await createPolicyRepo("berth-revision-", AUTHOR);
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it("names HEAD and its author, and says whether the policy files differ from it", async () => {
    const head = await headOf(repo);
    expect(await commitOf(repo)).toEqual({ sha: head, author: "Alice Example <alice@example.com>", uncommitted: false });

    await writeFile(path.join(repo, "README.md"), "not a policy file\n");
    expect((await commitOf(repo))?.uncommitted).toBe(false);

    await editFile(repo, "members.yaml", (text) => text.replace("role: guest", "role: developer"));
    expect(await commitOf(repo)).toEqual({ sha: head, author: "Alice Example <alice@example.com>", uncommitted: true });

    const next = await commitAll(repo, AUTHOR, "Alice develops on platform");
    expect(await commitOf(repo)).toMatchObject({ sha: next, uncommitted: false });

    await rm(path.join(repo, "projects.yaml"));
    expect((await commitOf(repo))?.uncommitted).toBe(true);
  });

  it("is null outside a git work tree", async () => {
    const plain = await mkdtemp(path.join(tmpdir(), "berth-plain-"));
    try {
      expect(await commitOf(plain)).toBeNull();
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });
});
