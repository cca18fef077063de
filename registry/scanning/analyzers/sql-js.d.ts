/** The part of sql.js (SQLite compiled to WebAssembly) the rpm analyzer uses; sql.js ships no types of its own. */
declare module "sql.js" {
  export interface Statement {
    step(): boolean;
    get(): unknown[];
    free(): boolean;
  }
  export interface Database {
    prepare(sql: string): Statement;
    run(sql: string, params?: unknown[]): Database;
    export(): Uint8Array;
    close(): void;
  }
  export interface SqlJsStatic {
    Database: new (data?: Uint8Array) => Database;
  }
  export default function initSqlJs(config?: { locateFile?: (file: string) => string }): Promise<SqlJsStatic>;
}
