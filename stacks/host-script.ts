import * as pulumi from "@pulumi/pulumi";
import type { StackSettings } from "./config";
import { controllerEnvironment, registryEnvironment } from "./environment";
import { HOST_SECRET_KEY_FILE, HOST_TLS_FILES, hostSetupScript, type HostArtifact } from "./host-setup";
import type { StackSecrets } from "./secrets";

/**
 * The setup script of host 1 (`primary`) or host 2 (`replica`) with the stack's settings and secrets filled in, as a
 * Pulumi secret: the same for the aws target (user data) and the hosts target (SSH stdin). `artifact` is the release the
 * host installs and where it finds it (an uploaded file, or an S3 object whose bucket is known once it exists).
 */
export function hostScript(
  settings: StackSettings,
  secrets: StackSecrets,
  role: "primary" | "replica",
  addresses: [string, string],
  artifact: pulumi.Input<HostArtifact>,
  tls?: { certificate: pulumi.Input<string>; key: pulumi.Input<string> },
): pulumi.Output<string> {
  const [primary] = addresses;
  const self = role === "primary" ? addresses[0] : addresses[1];
  const controller = { repo: settings.controllerRepo, branch: settings.controllerBranch, schedule: settings.controllerSchedule };
  const values = [secrets.databasePassword, secrets.replicationPassword, secrets.minioAccessKey, secrets.minioSecretKey, secrets.adminPassword, settings.databaseUrl ?? "", tls?.certificate ?? "", tls?.key ?? "", secrets.secretKey];
  return pulumi.secret(
    pulumi.all([pulumi.all(values), pulumi.output(artifact)]).apply(([[dbPassword, replicationPassword, minioKey, minioSecret, adminPassword, externalDb, certificate, key, secretKey], release]) => {
      const tlsOnHost = Boolean(certificate && key);
      // Berth on the primary answers HTTPS for the domain only (its certificate's name), so the controller uses that.
      const registryUrl = tlsOnHost ? `https://${settings.domain}` : `http://${primary}:5000`;
      return hostSetupScript({
        role,
        addresses,
        artifact: release as HostArtifact,
        minio: settings.minio,
        mc: settings.mc,
        registryEnv: registryEnvironment(
          {
            databaseUrl: externalDb || `postgres://berth:${encodeURIComponent(dbPassword)}@${primary}:5432/berth`,
            s3Endpoint: `http://${self}:9000`,
            bucket: settings.bucket,
            s3AccessKey: minioKey,
            s3SecretKey: minioSecret,
            adminPassword,
            publicUrl: `https://${settings.domain}`,
          },
          controller,
          { secretKeyFile: HOST_SECRET_KEY_FILE, ...(tlsOnHost ? { tls: HOST_TLS_FILES } : { trustedProxies: settings.trustedProxies }) },
        ),
        controllerEnv: role === "primary" && settings.controllerRepo !== "off" ? controllerEnvironment(registryUrl, adminPassword, controller) : null,
        databasePassword: dbPassword,
        replicationPassword,
        minioAccessKey: minioKey,
        minioSecretKey: minioSecret,
        secretKey,
        bucket: settings.bucket,
        tls: tlsOnHost ? { certificate, key } : null,
      });
    }),
  );
}
