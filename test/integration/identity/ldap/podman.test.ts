/**
 * A directory user with real clients (issue 19's "done when"): Berth in ldap mode against the test slapd, the LDAP
 * group devs a developer of project "team"; bob (in devs) logs in with podman using his directory password, pushes
 * to team and is refused in "other"; once removed from devs in the directory he is refused at the next sign-in
 * (BERTH_LOGIN_CACHE_SECONDS=1, so "next" comes after a second rather than after the default 30 s).
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../../support/berth";
import { buildLayer, writeImage } from "../../../support/oci-image";
import { Podman } from "../../../support/podman";
import { copy } from "../../../support/skopeo";
import { groupDn, ldapModeEnv, PEOPLE, removeFromGroup, slapdAvailable, startSlapd, type Slapd } from "../../../support/slapd";
import { describeIf, findTool, testIf } from "../../../support/tools";

const LOGIN_CACHE_SECONDS = 1;
const pastTheLoginCache = () => new Promise((resolve) => setTimeout(resolve, LOGIN_CACHE_SECONDS * 1000 + 300));
const REFUSED = /denied|unauthorized|forbidden|401|403/i;

const podmanPath = findTool("podman");
const skopeoPath = findTool("skopeo");

describeIf(slapdAvailable, "slapd and ldap-utils (apt-get install slapd ldap-utils)", "a directory user with podman (BERTH_AUTH_MODE=ldap)", () => {
  let slapd: Slapd;
  let berth: TestBerth;
  let work: string;
  let layout: string;
  let podman: Podman | undefined;
  let policy: string;
  let authfile: string;
  let imageId: string;

  const admin = (method: string, url: string, body?: unknown) =>
    fetch(`${berth.url}${url}`, {
      method,
      headers: { authorization: ADMIN_AUTH, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const tagsOf = async (project: string) => ((await (await admin("GET", `/v2/${project}/app/tags/list`)).json()) as { tags?: string[] }).tags ?? [];

  const podmanLogin = (password: string) => podman!.attempt(["login", "--tls-verify=false", "--authfile", authfile, "-u", "bob", "-p", password, berth.host]);
  const podmanPush = (project: string, tag: string) =>
    podman!.attempt(["push", "--tls-verify=false", "--authfile", authfile, "--signature-policy", policy, imageId, `docker://${berth.host}/${project}/app:${tag}`]);

  beforeAll(async () => {
    slapd = await startSlapd();
    // Lower case only: podman names an image pulled from an oci: layout after its path.
    work = path.join(tmpdir(), `berth-ldap-podman-${randomBytes(6).toString("hex")}`);
    await mkdir(work);
    berth = await startBerth({ env: { ...(await ldapModeEnv(slapd, work)), BERTH_LOGIN_CACHE_SECONDS: String(LOGIN_CACHE_SECONDS) } });
    for (const project of ["team", "other"]) {
      expect((await admin("POST", "/api/v2.0/projects", { project_name: project, metadata: { public: "false" } })).status).toBe(201);
    }
    const devs = { group_type: 1, ldap_group_dn: groupDn("devs") };
    expect((await admin("POST", "/api/v2.0/projects/team/members", { role_id: 2, member_group: devs })).status).toBe(201);
    layout = path.join(work, "layout");
    await writeImage(layout, { tag: "1", layers: [await buildLayer({ "hello.txt": "pushed by a directory user" })] });
    if (podmanPath) {
      podman = await Podman.create(podmanPath);
      policy = path.join(work, "policy.json");
      authfile = path.join(work, "auth.json");
      await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
      imageId = await podman.run(["pull", "--quiet", "--signature-policy", policy, `oci:${layout}:1`]);
    }
  }, 60_000);

  afterAll(async () => {
    await podman?.remove();
    await berth?.close();
    await slapd?.stop();
    await rm(work, { recursive: true, force: true });
  });

  testIf(podmanPath !== null, "podman not found on PATH")(
    "bob logs in with his directory password and pushes where his LDAP group is a developer, not elsewhere",
    async () => {
      expect(await podmanLogin(PEOPLE.bob.password)).toMatchObject({ code: 0 });
      expect(await podmanPush("team", "podman")).toMatchObject({ code: 0 });
      expect(await tagsOf("team")).toContain("podman");
      const elsewhere = await podmanPush("other", "podman");
      expect(elsewhere.code).not.toBe(0);
      expect(elsewhere.stderr).toMatch(REFUSED);
      expect(await tagsOf("other")).not.toContain("podman");
    },
    120_000,
  );

  testIf(podmanPath !== null, "podman not found on PATH")("a wrong directory password fails podman login", async () => {
    const login = await podmanLogin("not-bobs-password");
    expect(login.code).not.toBe(0);
    expect(login.stderr).toMatch(/invalid username\/password|unauthorized|401/i);
  });

  testIf(skopeoPath !== null, "skopeo not found on PATH")("skopeo pushes with bob's directory credentials to team, and is refused in other", async () => {
    const creds = `bob:${PEOPLE.bob.password}`;
    await copy(`oci:${layout}:1`, `docker://${berth.host}/team/app:skopeo`, { destCreds: creds });
    expect(await tagsOf("team")).toContain("skopeo");
    await expect(copy(`oci:${layout}:1`, `docker://${berth.host}/other/app:skopeo`, { destCreds: creds })).rejects.toThrow(REFUSED);
  });

  // Last: bob leaves devs for good.
  testIf(podmanPath !== null, "podman not found on PATH")(
    "removed from devs in the directory, bob is refused at his next sign-in: he still logs in, his push to team is refused",
    async () => {
      expect(await podmanLogin(PEOPLE.bob.password)).toMatchObject({ code: 0 });
      expect(await podmanPush("team", "before-removal")).toMatchObject({ code: 0 });
      await removeFromGroup(slapd, "devs", "bob");
      await pastTheLoginCache();
      // He is still a directory user with a valid password: the login works, the group's role is gone.
      expect(await podmanLogin(PEOPLE.bob.password)).toMatchObject({ code: 0 });
      const refused = await podmanPush("team", "after-removal");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(REFUSED);
      const tags = await tagsOf("team");
      expect(tags).toContain("before-removal");
      expect(tags).not.toContain("after-removal");
      if (skopeoPath) {
        await expect(copy(`oci:${layout}:1`, `docker://${berth.host}/team/app:skopeo-after-removal`, { destCreds: `bob:${PEOPLE.bob.password}` })).rejects.toThrow(REFUSED);
      }
    },
    120_000,
  );
});
