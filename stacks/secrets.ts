import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** The credentials a deployment needs; each is a Pulumi secret, taken from config or generated once and kept. */
export interface StackSecrets {
  adminPassword: pulumi.Output<string>;
  databasePassword: pulumi.Output<string>;
  replicationPassword: pulumi.Output<string>;
  minioAccessKey: pulumi.Output<string>;
  minioSecretKey: pulumi.Output<string>;
}

function secret(config: pulumi.Config, key: string, name: string, length: number, parent: pulumi.Resource, special = false): pulumi.Output<string> {
  const supplied = config.getSecret(key);
  if (supplied) return supplied;
  // Generated passwords meet Berth's password rule (upper, lower, digit) and avoid characters URLs would mangle.
  return pulumi.secret(new random.RandomPassword(name, { length, special, minUpper: 1, minLower: 1, minNumeric: 1 }, { parent }).result);
}

export function stackSecrets(name: string, parent: pulumi.Resource, config = new pulumi.Config("berth")): StackSecrets {
  return {
    adminPassword: secret(config, "adminPassword", `${name}-admin-password`, 24, parent),
    databasePassword: secret(config, "databasePassword", `${name}-database-password`, 32, parent),
    replicationPassword: secret(config, "replicationPassword", `${name}-replication-password`, 32, parent),
    minioAccessKey: secret(config, "minioAccessKey", `${name}-minio-access-key`, 20, parent),
    minioSecretKey: secret(config, "minioSecretKey", `${name}-minio-secret-key`, 40, parent),
  };
}
