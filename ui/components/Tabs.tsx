import { Link } from "../lib/router";

export interface Tab {
  label: string;
  /** The tab's own UI path. */
  href: string;
}

/** Tabs as links (each tab has its own address, so reload and back work); the current one is marked for screen readers. */
export function Tabs(props: { label: string; tabs: Tab[]; current: string }) {
  return (
    <nav class="tabs" aria-label={props.label}>
      {props.tabs.map((tab) => (
        <Link href={tab.href} class={tab.href === props.current ? "tab current" : "tab"} aria-current={tab.href === props.current ? "page" : undefined}>
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}
