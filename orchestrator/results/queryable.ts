/** The one thing results code needs from a database connection (pg.Client, pg.Pool or a pool client). */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}
