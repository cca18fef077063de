import { createHash, createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** BERTH_TLS_CERT_FILE and BERTH_TLS_KEY_FILE. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

/** A certificate (chain) and its private key, checked to belong together: what the server presents. */
export interface CertificatePair {
  /** PEM: the server's certificate first, then any intermediates. */
  cert: Buffer;
  key: Buffer;
  leaf: X509Certificate;
  /** sha256 over both files' bytes: tells a renewed pair from the one being served. */
  digest: string;
}

/** Why a pair cannot be served: unreadable, not PEM, or a key that does not belong to the certificate. */
export class CertificatePairError extends Error {
  constructor(
    /** The file at fault (a key that does not match its certificate is the key's). */
    readonly file: "cert" | "key",
    message: string,
  ) {
    super(message);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function parseChain(pem: Buffer, file: string): X509Certificate[] {
  const blocks = pem.toString("latin1").match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new CertificatePairError("cert", `${file} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new CertificatePairError("cert", `${file}: certificate ${i + 1} does not parse: ${(error as Error).message}`);
    }
  });
}

function parseKey(pem: Buffer, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new CertificatePairError("key", `${file} is not a PEM private key: ${(error as Error).message}`);
  }
}

/** Checks that `cert` holds a certificate chain and `key` the private key of its first certificate. */
export function parseCertificatePair(cert: Buffer, key: Buffer, files: CertificateFiles): CertificatePair {
  const [leaf] = parseChain(cert, files.certFile);
  if (!leaf.checkPrivateKey(parseKey(key, files.keyFile))) {
    throw new CertificatePairError("key", `${files.keyFile} is not the private key of the certificate in ${files.certFile} (${leaf.subject.replace(/\n/g, ", ")})`);
  }
  return { cert, key, leaf, digest: createHash("sha256").update(cert).update("\0").update(key).digest("hex") };
}

function unreadable(which: "cert" | "key", file: string, error: unknown): CertificatePairError {
  return new CertificatePairError(which, `cannot read ${file}: ${(error as Error).message}`);
}

export function readCertificatePairSync(files: CertificateFiles): CertificatePair {
  const read = (which: "cert" | "key", file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw unreadable(which, file, error);
    }
  };
  return parseCertificatePair(read("cert", files.certFile), read("key", files.keyFile), files);
}

export async function readCertificatePair(files: CertificateFiles): Promise<CertificatePair> {
  const read = (which: "cert" | "key", file: string) => readFile(file).catch((error: unknown) => Promise.reject(unreadable(which, file, error)));
  const [cert, key] = await Promise.all([read("cert", files.certFile), read("key", files.keyFile)]);
  return parseCertificatePair(cert, key, files);
}

/** What an operator wants to see in a log line about the served certificate. */
export function describeCertificate(leaf: X509Certificate): { subject: string; issuer: string; validTo: string; serial: string; fingerprint256: string } {
  return { subject: leaf.subject.replace(/\n/g, ", "), issuer: leaf.issuer.replace(/\n/g, ", "), validTo: new Date(leaf.validTo).toISOString(), serial: leaf.serialNumber, fingerprint256: leaf.fingerprint256 };
}
