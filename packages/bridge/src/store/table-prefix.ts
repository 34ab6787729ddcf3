import { OperationNodeTransformer, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow, type TableNode } from 'kysely';
import { BRIDGE_TABLES } from './schema';

/** A table prefix the bridge accepts: lower-case letters, digits and `_`, so it needs no quoting anywhere. */
export const TABLE_PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,30}$/;
export const DEFAULT_TABLE_PREFIX = 'vf_';

const OWN_TABLES: ReadonlySet<string> = new Set(BRIDGE_TABLES);

class PrefixTransformer extends OperationNodeTransformer {
  constructor(private readonly prefix: string) {
    super();
  }

  protected override transformTable(node: TableNode): TableNode {
    const table = super.transformTable(node);
    const name = table.table.identifier.name;
    if (!OWN_TABLES.has(name)) return table;
    return { ...table, table: { ...table.table, identifier: { ...table.table.identifier, name: this.prefix + name } } };
  }
}

/**
 * Writes the prefix into every reference to one of the bridge's tables (src/store/schema.ts) as
 * the query is compiled; any other table name passes untouched. Queries stay typed by the
 * unprefixed names, and a page-view read of the host site can join the bridge's table through it.
 */
export class TablePrefixPlugin implements KyselyPlugin {
  private readonly transformer: PrefixTransformer;

  constructor(readonly prefix: string) {
    if (!TABLE_PREFIX_PATTERN.test(prefix)) throw new TypeError(`tablePrefix must match ${TABLE_PREFIX_PATTERN} (got "${prefix}")`);
    this.transformer = new PrefixTransformer(prefix);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
