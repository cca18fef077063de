import type { PeerCertificate } from "node:tls";
import { Agent } from "undici";
import type { CertificatePair } from "./certificate-pair";

/** Connections that trust `pair` alone: its leaf is the only trust anchor, and the peer must present that leaf. */
function pinnedAgent(pair: CertificatePair): Agent {
  const expected = pair.leaf.fingerprint256;
  return new Agent({
    connect: {
      ca: pair.cert,
      // The site's root CA is not in the chain file: the served leaf itself is the anchor.
      allowPartialTrustChain: true,
      checkServerIdentity: (_host: string, peer: PeerCertificate) =>
        peer.fingerprint256 === expected ? undefined : new Error(`the loopback peer presented ${peer.fingerprint256}, not the served certificate ${expected}`),
    } as Agent.Options["connect"],
  });
}

/**
 * HTTPS to this process's own listener (the embedded controller, replication's local side), trusting exactly the
 * certificate it serves. Loopback addresses are rarely named in a site's certificate, so the host name check is
 * replaced by this pin rather than switched off. A renewal pins the new certificate and retires the connections
 * opened under the old one (requests in flight on them finish first).
 */
export class LoopbackTrust {
  private agent: Agent;

  constructor(served: CertificatePair) {
    this.agent = pinnedAgent(served);
  }

  /** Trust `pair` (the certificate now served) for every request from now on. */
  pin(pair: CertificatePair): void {
    const retired = this.agent;
    this.agent = pinnedAgent(pair);
    void retired.close().catch(() => undefined);
  }

  /** The global fetch, over connections that trust only the served certificate. */
  readonly fetch: typeof fetch = (input, init) => fetch(input, { ...init, dispatcher: this.agent } as RequestInit);

  close(): Promise<void> {
    return this.agent.close();
  }
}
