import { waitUntil } from "./wait";
import type { RegistryClient } from "./registry-client";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** Creates a registry endpoint for `upstreamUrl` (a docker-registry) and a proxy-cache project `name` on it; the endpoint's id. */
export async function createProxyProject(admin: RegistryClient, name: string, upstreamUrl: string, options: { public: boolean }): Promise<number> {
  const endpoint = await admin.fetch("/api/v2.0/registries", json("POST", { name: `${name}-upstream`, type: "docker-registry", url: upstreamUrl }));
  expect(endpoint.status).toBe(201);
  const registryId = Number(endpoint.headers.get("location")!.split("/").pop());
  const project = await admin.fetch("/api/v2.0/projects", json("POST", { project_name: name, registry_id: registryId, metadata: { public: String(options.public) } }));
  expect(project.status).toBe(201);
  return registryId;
}

/** Makes project `name` public or private. */
export async function setProjectPublic(admin: RegistryClient, name: string, isPublic: boolean): Promise<void> {
  expect((await admin.fetch(`/api/v2.0/projects/${name}`, json("PUT", { metadata: { public: String(isPublic) } }))).status).toBe(200);
}

/** Waits until proxy project `project` holds `repository:tag` (the management API lists only what is stored). */
export async function waitUntilCached(admin: RegistryClient, project: string, repository: string, tag: string): Promise<void> {
  const encoded = encodeURIComponent(encodeURIComponent(repository));
  await waitUntil(async () => {
    const response = await admin.fetch(`/api/v2.0/projects/${project}/repositories/${encoded}/artifacts?with_tag=true`);
    if (response.status !== 200) return false;
    const artifacts = (await response.json()) as { tags: { name: string }[] | null }[];
    return artifacts.some((a) => (a.tags ?? []).some((t) => t.name === tag));
  }, `${project}/${repository}:${tag} to be cached`);
}
