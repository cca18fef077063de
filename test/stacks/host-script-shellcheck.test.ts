/**
 * Every host script the stacks can render passes ShellCheck at every severity (style and info included): host 1 and
 * host 2, with and without TLS on the host, with and without the controller, the release from an uploaded file (hosts
 * target) or from S3 (aws), and the Berth install part on its own (what the Debian 12 root test runs).
 */
import { berthInstallScript, hostSetupScript, type HostArtifact, type HostSetup } from "../../stacks/host-setup";
import { DEFAULT_MC, DEFAULT_MINIO } from "../../stacks/third-party";
import { shellcheckFindings } from "./mocks";
import { describeWithTool } from "../support/tools";

const ARTIFACTS: Record<string, HostArtifact> = {
  uploaded: { version: "0.1.0", arch: "x64", fileName: "berth-0.1.0-linux-x64.tar.gz", sha256: "a".repeat(64), source: { kind: "file", path: "/var/tmp/berth-0.1.0-linux-x64.tar.gz" } },
  s3: { version: "0.1.0", arch: "arm64", fileName: "berth-0.1.0-linux-arm64.tar.gz", sha256: "b".repeat(64), source: { kind: "s3", bucket: "berth-releases-1234", key: "releases/berth-0.1.0-linux-arm64.tar.gz", region: "eu-central-1" } },
};
const TLS = { certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", key: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----" };
const CONTROLLER_ENV = { BERTH_REGISTRY_URL: "https://registry.example.com", BERTH_REGISTRY_PASSWORD: "it's-a-secret", BERTH_CONTROLLER_REPO: "https://git.example.com/p.git" };

function setup(role: HostSetup["role"], artifact: HostArtifact, tls: boolean, controller: boolean): HostSetup {
  return {
    role,
    addresses: ["10.0.0.11", "10.0.0.12"],
    artifact,
    minio: DEFAULT_MINIO,
    mc: DEFAULT_MC,
    registryEnv: { BERTH_ADDR: tls ? "0.0.0.0:443" : "0.0.0.0:5000", BERTH_ADMIN_PASSWORD: "O'Brien $HOME `id`" },
    controllerEnv: controller ? CONTROLLER_ENV : null,
    databasePassword: "db'pass",
    replicationPassword: "repl\"pass$x",
    minioAccessKey: "minio-key",
    minioSecretKey: "minio'secret",
    secretKey: Buffer.alloc(32, 7).toString("base64"),
    bucket: "berth-blobs",
    tls: tls ? TLS : null,
  };
}

const cases: Array<[string, string]> = [];
for (const role of ["primary", "replica"] as const) {
  for (const [source, artifact] of Object.entries(ARTIFACTS)) {
    for (const tls of [true, false]) {
      for (const controller of role === "primary" ? [true, false] : [false]) {
        cases.push([`${role}, release ${source}, ${tls ? "TLS on the host" : "TLS in front"}, controller ${controller ? "on" : "off"}`, hostSetupScript(setup(role, artifact, tls, controller))]);
      }
    }
  }
}
for (const controller of [true, false]) {
  const { artifact, registryEnv, controllerEnv, secretKey, tls } = setup("primary", ARTIFACTS.uploaded, false, controller);
  cases.push([`the Berth install part alone, controller ${controller ? "on" : "off"}`, berthInstallScript({ artifact, registryEnv, controllerEnv, secretKey, tls })]);
}

describeWithTool("shellcheck", "rendered host scripts (shellcheck -s bash)", () => {
  it.each(cases)("%s: no findings", (_name, script) => {
    expect(shellcheckFindings(script)).toBe("");
  });

  it("covers both roles, both release sources, TLS on and off and the controller on and off", () => {
    expect(cases).toHaveLength(2 * 2 * 2 + 2 * 2 + 2);
  });
});
