import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Link, useLocation } from "../lib/router";
import { useSession } from "../lib/session-context";

/** Top-level sections; `admin` ones are shown to system admins only (their pages refuse anyone else anyway). */
const SECTIONS: { label: string; href: string; admin?: boolean }[] = [
  { label: "Projects", href: "/projects" },
  { label: "GitOps", href: "/gitops" },
  { label: "Administration", href: "/admin", admin: true },
];

/** The header's user menu: the user's profile (CLI secret, groups) and sign-out; it closes when the page changes. */
function UserMenu(props: { onSignOut: () => void }) {
  const session = useSession();
  const { path } = useLocation();
  const menu = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    if (menu.current) menu.current.open = false;
  }, [path]);
  return (
    <details class="user-menu" ref={menu}>
      <summary class="username" title="Signed in as">
        {session.user.username}
        {session.user.sysadmin_flag ? " (administrator)" : ""}
      </summary>
      <div class="menu" role="group" aria-label="User menu">
        <Link href="/profile">User profile</Link>
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </details>
  );
}

/** The frame of every signed-in page: the header with the user menu (profile, sign-out), the navigation, then the page. */
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
          <UserMenu onSignOut={props.onSignOut} />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}
