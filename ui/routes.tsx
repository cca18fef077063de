import type { VNode } from "preact";
import { GitOps } from "./pages/GitOps";
import { Artifact } from "./pages/Artifact";
import { Project } from "./pages/Project";
import { Projects } from "./pages/Projects";
import { Repository } from "./pages/Repository";

/**
 * The signed-in pages, by path pattern (first match wins). A page author adds a line here and a file under pages/;
 * `:name` parts arrive decoded.
 */
export const ROUTES: { pattern: string; render: (params: Record<string, string>) => VNode }[] = [
  { pattern: "/projects", render: () => <Projects /> },
  { pattern: "/projects/:name", render: (p) => <Project name={p.name} tab="repositories" /> },
  { pattern: "/projects/:name/:tab", render: (p) => <Project name={p.name} tab={p.tab} /> },
  { pattern: "/gitops", render: () => <GitOps /> },
  { pattern: "/projects/:name/repositories/:repo", render: (p) => <Repository project={p.name} repository={p.repo} /> },
  { pattern: "/projects/:name/repositories/:repo/artifacts/:digest", render: (p) => <Artifact project={p.name} repository={p.repo} digest={p.digest} /> },
];
