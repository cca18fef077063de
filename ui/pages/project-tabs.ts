import type { FunctionComponent } from "preact";
import type { Permission, Project } from "../api/types";
import { ProjectRepositories } from "./ProjectRepositories";
import { ProjectRetention } from "./ProjectRetention";
import { ProjectSummary } from "./ProjectSummary";
import { ProjectMembers } from "./ProjectMembers";
import { ProjectRobots } from "./ProjectRobots";
import { ProjectImmutability } from "./ProjectImmutability";
import { ProjectWebhooks } from "./ProjectWebhooks";
import { ProjectLogs } from "./ProjectLogs";
import { ProjectConfiguration } from "./ProjectConfiguration";

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
  { path: "members", label: "Members", needs: { resource: "member", action: "list" }, page: ProjectMembers },
  { path: "robot-accounts", label: "Robot Accounts", needs: { resource: "robot", action: "list" }, page: ProjectRobots },
  { path: "tag-immutability", label: "Tag Immutability", needs: { resource: "immutable-tag", action: "list" }, page: ProjectImmutability },
  { path: "webhooks", label: "Webhooks", needs: { resource: "notification-policy", action: "list" }, page: ProjectWebhooks },
  { path: "logs", label: "Logs", needs: { resource: "log", action: "list" }, page: ProjectLogs },
  { path: "configuration", label: "Configuration", needs: { resource: "configuration", action: "read" }, page: ProjectConfiguration },
  { path: "retention", label: "Tag Retention", needs: { resource: "tag-retention", action: "read" }, page: ProjectRetention },
];
