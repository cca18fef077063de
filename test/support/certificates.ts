/**
 * A throwaway PKI made with openssl for TLS tests: a root CA, an intermediate under it, and server certificates
 * issued by the intermediate, so a served chain (leaf + intermediate) verifies against the root alone, as a site's
 * certificate does. Everything lives in one temp dir.
 */
import { execFile } from "node:child_process";
import { X509Certificate, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "node:tls";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface IssuedCertificate {
  /** PEM: the server certificate, then the intermediate. */
  chain: Buffer;
  key: Buffer;
  fingerprint256: string;
  serial: string;
}

export interface TestPki {
  dir: string;
  /** The root CA certificate (PEM file): what clients trust. */
  rootFile: string;
  /** A server certificate for `names` (IP addresses or DNS names) with a fresh serial and key. */
  issue(names: string[]): Promise<IssuedCertificate>;
  remove(): Promise<void>;
}

const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function signed(dir: string, name: string, subject: string, issuer: string, extensions: string): Promise<void> {
  const file = (suffix: string) => path.join(dir, `${name}.${suffix}`);
  await run("openssl", ["req", "-new", ...NEW_KEY, "-subj", subject, "-keyout", file("key"), "-out", file("csr")]);
  await writeFile(file("ext"), extensions);
  await run("openssl", [
    "x509", "-req", "-in", file("csr"), "-CA", path.join(dir, `${issuer}.crt`), "-CAkey", path.join(dir, `${issuer}.key`),
    "-set_serial", `0x${randomBytes(16).toString("hex")}`, "-days", "2", "-extfile", file("ext"), "-out", file("crt"),
  ]);
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), "berth-pki-"));
  await run("openssl", ["req", "-x509", ...NEW_KEY, "-days", "2", "-subj", "/CN=Berth Test Root", "-keyout", path.join(dir, "root.key"), "-out", path.join(dir, "root.crt")]);
  await signed(dir, "intermediate", "/CN=Berth Test Intermediate", "root", "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
  const intermediate = await readFile(path.join(dir, "intermediate.crt"));
  let issued = 0;
  return {
    dir,
    rootFile: path.join(dir, "root.crt"),
    async issue(names) {
      const name = `server-${++issued}`;
      const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
      await signed(dir, name, `/CN=${names[0]}`, "intermediate", `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
      const leaf = await readFile(path.join(dir, `${name}.crt`));
      const certificate = new X509Certificate(leaf);
      return { chain: Buffer.concat([leaf, intermediate]), key: await readFile(path.join(dir, `${name}.key`)), fingerprint256: certificate.fingerprint256, serial: certificate.serialNumber };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The SHA-256 fingerprint of the certificate a verified TLS handshake with 127.0.0.1:`port` presents. */
export function presented(port: number, ca: Buffer, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once("error", reject);
  });
}
