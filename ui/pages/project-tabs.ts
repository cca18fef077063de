import type { FunctionComponent } from "preact";
import type { Permission, Project } from "../api/types";
import { ProjectRepositories } from "./ProjectRepositories";
import { ProjectRetention } from "./ProjectRetention";
import { ProjectSummary } from "./ProjectSummary";

/**
 * The tabs of a project page, in order. A page author adds one entry (and its file): `path` is the tab's address
 * under /projects/<name>/, `needs` the permission (as /users/current/permissions?relative=true names it: "." is the
 * project itself) without which the tab is not offered — the server refuses its requests anyway.
 */
export interface ProjectTab {
  path: string;
  label: string;
  needs: Permission;
  /** The page gets the caller's permissions in the project, to offer only what they may do (lib/permissions.ts). */
  page: FunctionComponent<{ project: Project; permissions: Permission[] }>;
}

export const PROJECT_TABS: ProjectTab[] = [
  { path: "repositories", label: "Repositories", needs: { resource: "repository", action: "list" }, page: ProjectRepositories },
  { path: "summary", label: "Summary", needs: { resource: ".", action: "read" }, page: ProjectSummary },
  { path: "retention", label: "Tag Retention", needs: { resource: "tag-retention", action: "read" }, page: ProjectRetention },
];
