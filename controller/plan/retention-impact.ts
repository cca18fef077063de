import type { ApiClient } from "../api-client";
import type { RetentionRule } from "../policy/model";
import { retentionBody } from "../state/harbor-shapes";
import { decide, type Candidate } from "../../registry/retention/decide";
import type { RetentionRule as HarborRule } from "../../registry/retention/policy";

export interface DoomedArtifact {
  repository: string;
  digest: string;
  tags: string[];
}

interface ApiArtifact {
  digest: string;
  push_time: string;
  pull_time: string | null;
  tags: { name: string; push_time: string; immutable: boolean }[] | null;
  labels?: { name: string }[] | null;
}

const ZERO_TIME = /^0001-01-01/;

/**
 * The artifacts of `project` that `rules` would delete if retention ran now: the live artifacts (read through the
 * API, with their push and pull times and immutable tags) put through the same decision engine the registry runs.
 */
export async function retentionImpact(client: ApiClient, project: string, rules: RetentionRule[]): Promise<DoomedArtifact[]> {
  const encoded = encodeURIComponent(project);
  const repositories = await client.list<{ name: string }>(`/projects/${encoded}/repositories`);
  const candidates: Candidate[] = [];
  for (const { name } of repositories) {
    const repository = name.slice(project.length + 1);
    const artifacts = await client.list<ApiArtifact>(`/projects/${encoded}/repositories/${encodeURIComponent(encodeURIComponent(repository))}/artifacts?with_tag=true`);
    for (const artifact of artifacts) {
      const tags = artifact.tags ?? [];
      const pushes = [artifact.push_time, ...tags.map((t) => t.push_time)].map((t) => new Date(t).getTime());
      candidates.push({
        repository,
        digest: artifact.digest,
        tags: tags.map((t) => t.name),
        labels: (artifact.labels ?? []).map((l) => l.name),
        pushedAt: new Date(Math.max(...pushes)),
        pulledAt: artifact.pull_time && !ZERO_TIME.test(artifact.pull_time) ? new Date(artifact.pull_time) : null,
        immutable: tags.some((t) => t.immutable),
      });
    }
  }
  const harborRules = retentionBody(0, "", rules).rules.map((rule, i) => ({ ...rule, id: i + 1, priority: i + 1 })) as HarborRule[];
  return decide(harborRules, candidates, new Date())
    .decisions.filter((d) => d.verdict === "DEL")
    .map((d) => ({ repository: `${project}/${d.repository}`, digest: d.digest, tags: d.tags }));
}
