import type { ComponentChildren } from "preact";
import type { useAction } from "../lib/use-action";
import { ErrorMessage } from "./ErrorMessage";
import { PagedTable, type PagedTableProps } from "./PagedTable";

/**
 * A tab whose content is one paged list: the toolbar with its create button (`create` is null when the caller may
 * not create), the last row action's error as the API wrote it, and the table, reloaded after each action.
 */
export function ListTab<T>(
  props: Omit<PagedTableProps<T>, "reloadKey"> & {
    label: string;
    create: { label: string; onClick: () => void } | null;
    action: Pick<ReturnType<typeof useAction>, "error" | "version">;
    /** What else restarts the list at page 1 (a filter). */
    reloadKey?: string;
    /** More toolbar controls (a filter), text above it, and what follows the table (dialogs). */
    toolbar?: ComponentChildren;
    intro?: ComponentChildren;
    children?: ComponentChildren;
  },
) {
  const { label, create, action, reloadKey, toolbar, intro, children, ...table } = props;
  return (
    <section aria-label={label}>
      {intro}
      <div class="toolbar">
        {create ? (
          <button type="button" class="primary" onClick={create.onClick}>
            {create.label}
          </button>
        ) : null}
        {toolbar}
      </div>
      <ErrorMessage error={action.error} />
      <PagedTable<T> {...table} reloadKey={`${reloadKey ?? ""}\n${action.version}`} />
      {children}
    </section>
  );
}
