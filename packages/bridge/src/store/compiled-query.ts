import { CompiledQuery, type Compilable, type Kysely } from 'kysely';

/** Stands for the i-th argument while the query is compiled. */
const placeholder = (i: number) => `\u0000compiled-query-argument-${i}\u0000`;

/**
 * A query Kysely builds and compiles once, for the database's own dialect; every run binds new
 * values to the same SQL text. For the statements a page view runs, where building the query tree
 * and compiling it again each time would cost more than running it. SQLite then finds the
 * statement already prepared (src/store/statement-cache.ts).
 */
export function compileOnce<DB, Args extends readonly unknown[], Row>(
  db: Kysely<DB>,
  build: (...args: Args) => Compilable<Row>,
  arity: Args['length'],
): (...args: Args) => Promise<Row | undefined> {
  const placeholders = Array.from({ length: arity }, (_, i) => placeholder(i));
  const { sql, parameters } = build(...(placeholders as unknown as Args)).compile();
  // Where each parameter comes from: an argument (its index), or a constant the builder put in itself (-1).
  const sources = parameters.map((value) => placeholders.indexOf(value as string));
  if (new Set(sources.filter((i) => i >= 0)).size !== arity) throw new TypeError('compileOnce: every argument must be used as a value in the query');
  return async (...args) => {
    const values = sources.map((argument, i) => (argument >= 0 ? args[argument] : parameters[i]));
    const result = await db.executeQuery<Row>(CompiledQuery.raw(sql, values));
    return result.rows[0];
  };
}
