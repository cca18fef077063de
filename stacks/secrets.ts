import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** The credentials a deployment needs; each is a Pulumi secret, taken from config or generated once and kept. */
export interface StackSecrets {
  adminPassword: pulumi.Output<string>;
  databasePassword: pulumi.Output<string>;
  replicationPassword: pulumi.Output<string>;
  minioAccessKey: pulumi.Output<string>;
  minioSecretKey: pulumi.Output<string>;
  /**
   * Berth's BERTH_SECRET_KEY_FILE content (32 random bytes, base64): the key secrets are encrypted with in the
   * database. Every registry node gets the same one; losing it makes the stored registry passwords, webhook
   * credentials and token signing key unreadable.
   */
  secretKey: pulumi.Output<string>;
}

function secret(config: pulumi.Config, key: string, name: string, length: number, parent: pulumi.Resource, special = false): pulumi.Output<string> {
  const supplied = config.getSecret(key);
  if (supplied) return supplied;
  // Generated passwords meet Berth's password rule (upper, lower, digit) and avoid characters URLs would mangle.
  return pulumi.secret(new random.RandomPassword(name, { length, special, minUpper: 1, minLower: 1, minNumeric: 1 }, { parent }).result);
}

/** `berth:secretKey` when set (it must decode to 32 bytes), else 32 random bytes generated once and kept in the state. */
function secretKey(config: pulumi.Config, name: string, parent: pulumi.Resource): pulumi.Output<string> {
  const supplied = config.getSecret("secretKey");
  if (!supplied) return pulumi.secret(new random.RandomBytes(name, { length: 32 }, { parent }).base64);
  return supplied.apply((value) => {
    if (Buffer.from(value.trim(), "base64").length !== 32) throw new Error("berth:secretKey must be 32 random bytes, base64-encoded (openssl rand -base64 32)");
    return value.trim();
  });
}

export function stackSecrets(name: string, parent: pulumi.Resource, config = new pulumi.Config("berth")): StackSecrets {
  return {
    adminPassword: secret(config, "adminPassword", `${name}-admin-password`, 24, parent),
    databasePassword: secret(config, "databasePassword", `${name}-database-password`, 32, parent),
    replicationPassword: secret(config, "replicationPassword", `${name}-replication-password`, 32, parent),
    minioAccessKey: secret(config, "minioAccessKey", `${name}-minio-access-key`, 20, parent),
    minioSecretKey: secret(config, "minioSecretKey", `${name}-minio-secret-key`, 40, parent),
    secretKey: secretKey(config, `${name}-secret-key`, parent),
  };
}
