/**
 * What a container runtime logs in with: the `auths` file (Docker's config.json, podman's auth.json, the
 * `.dockerconfigjson` key of a Kubernetes pull secret) and the Secret that carries it. Pure: the command line and the
 * Kubernetes stack render the same bytes.
 */
import { stringify } from "yaml";
import { ROBOT_PREFIX } from "../../registry/robots/store";

export const SECRET_TYPE = "kubernetes.io/dockerconfigjson";
export const DOCKER_CONFIG_KEY = ".dockerconfigjson";

/** The name a robot declared as `name` in `project` logs in with (`robot$dev-team+ci`). */
export function robotLogin(robot: { project: string; name: string }): string {
  return `${ROBOT_PREFIX}${robot.project}+${robot.name}`;
}

/**
 * The host[:port] a pull names (`registry.example.com`, `127.0.0.1:5000`), from a URL or a bare host: runtimes look
 * credentials up by the image reference's host, so a scheme or path in the key would never match.
 */
export function registryHost(server: string): string {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `https://${server}`);
  if (url.pathname !== "/" || url.search || url.username) throw new Error(`${JSON.stringify(server)} is not a registry host (host[:port] or its URL)`);
  return url.host;
}

/**
 * The auth file for one registry. Kubernetes reads `username`/`password` or `auth`, Docker and podman only `auth`
 * (base64 of `user:secret`): both are written.
 */
export function dockerConfigJson(host: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [host]: { username, password, auth } } });
}

/** Kubernetes object names (RFC 1123 subdomain for a Secret, label for a namespace), checked before rendering. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` cannot name a Secret (or a namespace), or null. */
export function kubernetesNameProblem(name: string, what: "name" | "namespace"): string | null {
  const valid = what === "name" ? SUBDOMAIN.test(name) && name.length <= 253 : LABEL.test(name) && name.length <= 63;
  return valid ? null : `${what} ${JSON.stringify(name)} is not a Kubernetes ${what === "name" ? "object name (lower-case letters, digits, '-', '.')" : "namespace (lower-case letters, digits, '-', up to 63)"}`;
}

/** The Secret as YAML for `kubectl apply -f -`; without a namespace, kubectl's (`-n`, the context's) applies. */
export function pullSecretManifest(options: { name: string; namespace?: string; dockerConfig: string }): string {
  const metadata = options.namespace ? { name: options.name, namespace: options.namespace } : { name: options.name };
  const secret = { apiVersion: "v1", kind: "Secret", metadata, type: SECRET_TYPE, data: { [DOCKER_CONFIG_KEY]: Buffer.from(options.dockerConfig).toString("base64") } };
  return stringify(secret, { lineWidth: 0 });
}
