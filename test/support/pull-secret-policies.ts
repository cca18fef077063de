import { writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The policy files of the pull-secret tests: projects team-a and team-b; robots with pull on one project each — one
 * whose secret comes from $PULLER_SECRET, one without secretFrom, one whose secret is the file `teamBSecretFile`.
 */
export function pullSecretPolicies(teamBSecretFile: string): { "projects.yaml": string; "members.yaml": string } {
  return {
    "projects.yaml": `projects:
  - name: team-a
  - name: team-b
`,
    "members.yaml": `robots:
  - name: puller
    project: team-a
    access: [pull]
    secretFrom: env:PULLER_SECRET
  - name: generated
    project: team-a
    access: [pull]
  - name: puller
    project: team-b
    access: [pull]
    secretFrom: file:${teamBSecretFile}
`,
  };
}

/** Writes them into `dir`. */
export async function writePullSecretPolicies(dir: string, teamBSecretFile: string): Promise<void> {
  for (const [file, text] of Object.entries(pullSecretPolicies(teamBSecretFile))) await writeFile(path.join(dir, file), text);
}
