import type { ComponentChildren } from "preact";
import { Link, useLocation } from "../lib/router";
import { useSession } from "../lib/session-context";

/** Top-level sections; `admin` ones are shown to system admins only (their pages refuse anyone else anyway). */
const SECTIONS: { label: string; href: string; admin?: boolean }[] = [
  { label: "Projects", href: "/projects" },
  { label: "GitOps", href: "/gitops" },
  { label: "Administration", href: "/admin", admin: true },
];

/** The frame of every signed-in page: the header with the user and sign-out, the navigation, then the page. */
export function Shell(props: { onSignOut: () => void; children: ComponentChildren }) {
  const session = useSession();
  const { path } = useLocation();
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="app-header">
        <Link href="/projects" class="brand">
          Berth
        </Link>
        <nav class="sections" aria-label="Sections">
          {SECTIONS.filter((section) => !section.admin || session.user.sysadmin_flag).map((section) => (
            <Link href={section.href} aria-current={path.startsWith(section.href) ? "page" : undefined}>
              {section.label}
            </Link>
          ))}
        </nav>
        <div class="user">
          <span class="username" title="Signed in as">
            {session.user.username}
            {session.user.sysadmin_flag ? " (administrator)" : ""}
          </span>
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}
