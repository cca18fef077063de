import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { Page } from "../api/client";
import { useApi } from "../lib/use-api";
import { ErrorMessage } from "./ErrorMessage";

export interface Column<T> {
  header: string;
  cell: (row: T) => ComponentChildren;
  /** Right-aligned numbers. */
  numeric?: boolean;
}

export const PAGE_SIZE = 15;

/**
 * A table whose rows come from the API one page at a time (`load(page, pageSize)`), with its pager. `reloadKey`
 * starts over at page 1 when it changes (a new search, a created item).
 */
export interface PagedTableProps<T> {
  caption: string;
  columns: Column<T>[];
  load: (page: number, pageSize: number) => Promise<Page<T>>;
  rowKey: (row: T) => string | number;
  reloadKey: string;
  empty: string;
}

export function PagedTable<T>(props: PagedTableProps<T>) {
  const [page, setPage] = useState({ key: props.reloadKey, number: 1 });
  const number = page.key === props.reloadKey ? page.number : 1;
  const result = useApi(() => props.load(number, PAGE_SIZE), `${props.reloadKey}\n${number}`);
  const goTo = (n: number) => setPage({ key: props.reloadKey, number: n });
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  const items = result.state === "ok" ? result.value.items : [];
  const total = result.state === "ok" ? result.value.total : 0;
  const first = total === 0 ? 0 : (number - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, number * PAGE_SIZE);
  return (
    <div class="paged-table">
      <div class="table-scroll">
        <table aria-busy={result.state === "loading"}>
          <caption class="visually-hidden">{props.caption}</caption>
          <thead>
            <tr>
              {props.columns.map((column) => (
                <th scope="col" class={column.numeric ? "numeric" : undefined}>
                  {column.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((row) => (
              <tr key={props.rowKey(row)}>
                {props.columns.map((column) => (
                  <td class={column.numeric ? "numeric" : undefined}>{column.cell(row)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {result.state === "ok" && total === 0 ? <p class="empty">{props.empty}</p> : null}
      <nav class="pager" aria-label={`${props.caption} pages`}>
        <span aria-live="polite">{result.state === "loading" ? "Loading…" : `${first}–${last} of ${total}`}</span>
        <button type="button" onClick={() => goTo(number - 1)} disabled={number <= 1}>
          Previous
        </button>
        <button type="button" onClick={() => goTo(number + 1)} disabled={last >= total}>
          Next
        </button>
      </nav>
    </div>
  );
}
