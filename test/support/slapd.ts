/**
 * A private slapd (Debian's OpenLDAP) for LDAP tests: one temp dir with its slapd.conf (back_mdb + the memberof
 * overlay) and database, listening on 127.0.0.1 with ldap:// (StartTLS offered) and ldaps://, loaded by ldapadd
 * with a small directory: people, groups (groupOfNames, so the overlay fills memberOf) and a search account.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createTestPki, type TestPki } from "./certificates";
import { findTool } from "./tools";
import { waitUntil } from "./wait";

const run = promisify(execFile);

export const SLAPD = "/usr/sbin/slapd";
/** Whether this machine can run the fixture (slapd lives in /usr/sbin, often outside a user's PATH). */
export const slapdAvailable = existsSync(SLAPD) && findTool("ldapadd") !== null && findTool("openssl") !== null;

export const BASE_DN = "dc=berth,dc=test";
export const ROOT_DN = `cn=admin,${BASE_DN}`;
const ROOT_PASSWORD = "root-secret";
export const SEARCH_DN = `cn=search,${BASE_DN}`;
export const SEARCH_PASSWORD = "search-secret";
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const GROUPS_DN = `ou=groups,${BASE_DN}`;
export const groupDn = (name: string) => `cn=${name},${GROUPS_DN}`;
export const userDn = (uid: string) => `uid=${uid},${PEOPLE_DN}`;

/** uid → password and the groups it is a member of. */
export const PEOPLE: Record<string, { password: string; mail: string; groups: string[] }> = {
  alice: { password: "alice-password", mail: "alice@berth.test", groups: ["devs", "registry-admins"] },
  bob: { password: "bob-password", mail: "bob@berth.test", groups: ["devs"] },
  carol: { password: "carol-password", mail: "carol@berth.test", groups: [] },
};
export const GROUPS = ["devs", "registry-admins"];

export interface Slapd {
  /** ldap:// URL (plain, StartTLS offered). */
  url: string;
  /** ldaps:// URL. */
  ldapsUrl: string;
  /** The test CA's root certificate (PEM file) the server's certificate chains to. */
  caFile: string;
  dir: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

function slapdConf(dir: string, certificate: { chain: string; key: string; ca: string }): string {
  const schema = ["core", "cosine", "inetorgperson", "nis"].map((name) => `include /etc/ldap/schema/${name}.schema`);
  return [
    ...schema,
    "modulepath /usr/lib/ldap",
    "moduleload back_mdb",
    "moduleload memberof",
    `pidfile ${dir}/slapd.pid`,
    `argsfile ${dir}/slapd.args`,
    `TLSCACertificateFile ${certificate.ca}`,
    `TLSCertificateFile ${certificate.chain}`,
    `TLSCertificateKeyFile ${certificate.key}`,
    "database mdb",
    `suffix "${BASE_DN}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${ROOT_PASSWORD}`,
    `directory ${dir}/db`,
    "maxsize 10485760",
    "overlay memberof",
    "",
  ].join("\n");
}

function directoryLdif(): string {
  const entries = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: berth\no: Berth Test`,
    `dn: ${PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ${GROUPS_DN}\nobjectClass: organizationalUnit\nou: groups`,
    `dn: ${SEARCH_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: search\nuserPassword: ${SEARCH_PASSWORD}`,
    ...Object.entries(PEOPLE).map(
      ([uid, person]) =>
        `dn: ${userDn(uid)}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid[0].toUpperCase()}${uid.slice(1)}\nsn: ${uid}\n` +
        `mail: ${person.mail}\nuserPassword: ${person.password}`,
    ),
    // groupOfNames needs at least one member; the overlay writes memberOf into each member when the group is added.
    ...GROUPS.map((group) => {
      const members = Object.keys(PEOPLE).filter((uid) => PEOPLE[uid].groups.includes(group));
      return `dn: ${groupDn(group)}\nobjectClass: groupOfNames\ncn: ${group}\n${members.map((uid) => `member: ${userDn(uid)}`).join("\n")}`;
    }),
  ];
  return `${entries.join("\n\n")}\n`;
}

export async function startSlapd(): Promise<Slapd> {
  const dir = await mkdtemp(path.join(tmpdir(), "berth-slapd-"));
  const pki: TestPki = await createTestPki();
  const issued = await pki.issue(["127.0.0.1", "localhost"]);
  const chain = path.join(dir, "server.crt");
  const key = path.join(dir, "server.key");
  await writeFile(chain, issued.chain);
  await writeFile(key, issued.key);
  const caFile = path.join(dir, "ca.crt");
  await copyFile(pki.rootFile, caFile);
  await mkdir(path.join(dir, "db"));
  await writeFile(path.join(dir, "slapd.conf"), slapdConf(dir, { chain, key, ca: caFile }));
  const [port, ldapsPort] = [await freePort(), await freePort()];
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  // -d keeps slapd in the foreground, so the child is the server and stopping it needs no pid file.
  const child: ChildProcess = spawn(SLAPD, ["-f", path.join(dir, "slapd.conf"), "-h", `${url}/ ${ldapsUrl}/`, "-d", "0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  let exited = false;
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.once("exit", () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await gone;
    }
    await pki.remove();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(async () => {
      if (exited) throw new Error(`slapd exited: ${output}`);
      return (await accepts(port)) && (await accepts(ldapsPort));
    }, "slapd listening");
    await writeFile(path.join(dir, "directory.ldif"), directoryLdif());
    await run("ldapadd", ["-x", "-H", url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, "-f", path.join(dir, "directory.ldif")]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, ldapsUrl, caFile, dir, stop };
}

/**
 * Removes `uid` from group `group` in the running directory (ldapmodify as the root DN, deleting one `member` value);
 * the memberof overlay then drops the group from the user's memberOf. groupOfNames needs a member left.
 */
export async function removeFromGroup(slapd: Pick<Slapd, "url" | "dir">, group: string, uid: string): Promise<void> {
  const ldif = path.join(slapd.dir, `remove-${uid}-from-${group}.ldif`);
  await writeFile(ldif, `dn: ${groupDn(group)}\nchangetype: modify\ndelete: member\nmember: ${userDn(uid)}\n`);
  await run("ldapmodify", ["-x", "-H", slapd.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, "-f", ldif]);
}

/**
 * The BERTH_* settings of a Berth in ldap mode against `slapd`: the search password written into `dir`, users found
 * among inetOrgPerson entries, groups by memberOf, members of registry-admins (alice) system admins.
 */
export async function ldapModeEnv(slapd: Slapd, dir: string): Promise<Record<string, string>> {
  const searchPasswordFile = path.join(dir, "search-password");
  await writeFile(searchPasswordFile, SEARCH_PASSWORD);
  return {
    BERTH_AUTH_MODE: "ldap",
    BERTH_LDAP_URL: slapd.url,
    BERTH_LDAP_CA_FILE: slapd.caFile,
    BERTH_LDAP_BASE_DN: BASE_DN,
    BERTH_LDAP_SEARCH_DN: SEARCH_DN,
    BERTH_LDAP_SEARCH_PASSWORD_FILE: searchPasswordFile,
    BERTH_LDAP_FILTER: "(objectClass=inetOrgPerson)",
    BERTH_LDAP_GROUP_BASE_DN: GROUPS_DN,
    BERTH_LDAP_GROUP_ATTRIBUTE: "memberOf",
    BERTH_LDAP_GROUP_ADMIN_DN: groupDn("registry-admins"),
  };
}
