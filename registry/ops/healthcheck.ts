#!/usr/bin/env node
/**
 * The container image's HEALTHCHECK: asks the `berth serve` of this container for `/api/v2.0/health` and exits 0
 * when it answers 200, 1 otherwise (the only codes a container engine's health check knows). The slim base image
 * has no curl, and a server on https (BERTH_TLS_CERT_FILE) is checked against its own certificate. How long a check
 * may take is the engine's `HEALTHCHECK --timeout`, which ends this process.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { listenAddress } from "../config";

export interface HealthTarget {
  host: string;
  port: number;
  /** Set when the server speaks https: the certificate it must present. */
  certificate?: X509Certificate;
}

/** A wildcard listen address is reached on the loopback of the same family. */
function reachableHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "::1";
  return host;
}

/** Where the server configured by these BERTH_* variables answers. */
export function healthTarget(env: NodeJS.ProcessEnv): HealthTarget {
  const { host, port } = listenAddress(env);
  const certFile = env.BERTH_TLS_CERT_FILE;
  return { host: reachableHost(host), port, certificate: certFile ? new X509Certificate(readFileSync(certFile)) : undefined };
}

export interface HealthAnswer {
  status: number;
  body: string;
}

/**
 * GET /api/v2.0/health. Over https the server must present exactly the configured certificate: it is pinned rather
 * than used as a trust anchor, so a certificate issued for the public name (not 127.0.0.1) or by an intermediate
 * CA is still accepted, and any other one is refused.
 */
export function checkHealth(target: HealthTarget): Promise<HealthAnswer> {
  const options = { host: target.host, port: target.port, path: "/api/v2.0/health", agent: false as const };
  return new Promise((resolve, reject) => {
    const onResponse = (response: http.IncomingMessage) => {
      if (target.certificate) {
        const presented = (response.socket as TLSSocket).getPeerX509Certificate();
        if (presented?.fingerprint256 !== target.certificate.fingerprint256) {
          response.destroy();
          reject(new Error("the server's certificate is not the one in BERTH_TLS_CERT_FILE"));
          return;
        }
      }
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    };
    const request = target.certificate ? https.get({ ...options, rejectUnauthorized: false }, onResponse) : http.get(options, onResponse);
    request.on("error", reject);
  });
}

async function main(): Promise<void> {
  let target: HealthTarget;
  try {
    target = healthTarget(process.env);
  } catch (error) {
    process.stdout.write(`invalid configuration: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    const answer = await checkHealth(target);
    // The engine keeps this output with the check's result (`docker inspect`), so an unhealthy body says why.
    process.stdout.write(`${answer.status} ${answer.body}\n`);
    process.exitCode = answer.status === 200 ? 0 : 1;
  } catch (error) {
    process.stdout.write(`unreachable: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
