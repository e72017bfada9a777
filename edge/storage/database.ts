/**
 * A Durable Object's SQLite storage, opened with its schema brought up to date and read through
 * typed queries. Each object declares its row types once, next to its migrations, and names them
 * at the query: `db.one<ScheduleRow>("SELECT * FROM schedules WHERE id = ?", id)`.
 */

/** One step of an object's schema, in the order the object declares them; its number is its place in that list. */
export interface Migration {
  /** What the step does, kept with the record that it ran. */
  name: string;
  /** SQL statements, or code for a step that must look at what is there first. */
  up: string | ((db: Database) => void);
}

/** What a query binds: SQLite values, and bytes as a view too (stored as a BLOB, read back as an ArrayBuffer). */
type Binding = SqlStorageValue | Uint8Array;

export class Database {
  readonly sql: SqlStorage;

  /**
   * Runs the steps of `migrations` this storage has not run yet. `_migrations` holds one row per
   * step that ran; each step runs in a transaction with its row, so a step that throws leaves
   * neither its changes nor its record, and the object fails to start rather than half-migrated.
   */
  constructor(
    private readonly storage: DurableObjectStorage,
    migrations: readonly Migration[],
  ) {
    this.sql = storage.sql;
    this.migrate(migrations);
  }

  /** The first row the query answers, or null. */
  one<Row extends object>(query: string, ...bindings: Binding[]): Row | null {
    return (this.sql.exec(query, ...bindings).toArray()[0] as Row | undefined) ?? null;
  }

  /** Every row the query answers. */
  all<Row extends object>(query: string, ...bindings: Binding[]): Row[] {
    return this.sql.exec(query, ...bindings).toArray() as Row[];
  }

  /** The rows the query answers, read one at a time: a caller that stops early reads no further. */
  each<Row extends object>(query: string, ...bindings: Binding[]): Iterable<Row> {
    return this.sql.exec(query, ...bindings) as Iterable<object> as Iterable<Row>;
  }

  /** Runs a statement that answers no rows; returns how many rows it wrote. */
  run(query: string, ...bindings: Binding[]): number {
    return this.sql.exec(query, ...bindings).rowsWritten;
  }

  /** The names of a table's columns, for a step that adds one only where it is missing. */
  columns(table: string): string[] {
    return this.sql.exec(`SELECT * FROM ${table} LIMIT 0`).columnNames;
  }

  /** Runs the steps not recorded yet; after `deleteAll`, which forgets the record too, that lays the schema out afresh. */
  migrate(migrations: readonly Migration[]): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, ran_at INTEGER NOT NULL)");
    const ran = this.one<{ version: number | null }>("SELECT MAX(version) AS version FROM _migrations")!.version ?? 0;
    migrations.slice(ran).forEach((step, i) => {
      this.storage.transactionSync(() => {
        if (typeof step.up === "string") this.sql.exec(step.up);
        else step.up(this);
        this.run("INSERT INTO _migrations (version, name, ran_at) VALUES (?, ?, ?)", ran + i + 1, step.name, Date.now());
      });
    });
  }
}
