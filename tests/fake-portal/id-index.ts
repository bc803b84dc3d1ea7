// The ids of a record store in ascending order, kept between lists: a portal of a million records answers a keyset
// page (`>id`, `start: -1`, b24restdocs settings/performance/huge-data.md) in O(page), as Bitrix24's primary key
// does — not by sorting a million ids per command, which stalled every other portal this process serves (bench
// `reconcile`, fairness part).

/** A record store that counts the additions and removals of ids, so that its sorted ids can be cached between them. */
export class RecordMap<V> extends Map<number, V> {
  idVersion = 0;

  override set(id: number, value: V): this {
    if (!this.has(id)) this.idVersion++;
    return super.set(id, value);
  }

  override delete(id: number): boolean {
    const had = super.delete(id);
    if (had) this.idVersion++;
    return had;
  }

  override clear(): void {
    this.idVersion++;
    super.clear();
  }
}

const cache = new WeakMap<Map<number, unknown>, { version: number; ids: number[] }>();

/** The store's ids, ascending: cached for a RecordMap until an id comes or goes, computed anew for a plain Map. */
export function sortedIds(store: Map<number, unknown>): number[] {
  const version = store instanceof RecordMap ? store.idVersion : null;
  const hit = cache.get(store);
  if (hit && version !== null && hit.version === version) return hit.ids;
  const ids = [...store.keys()].sort((a, b) => a - b);
  if (version !== null) cache.set(store, { version, ids });
  return ids;
}

/** Where the first id greater than `after` stands in ascending `ids` (ids.length when none is). */
export function firstAfter(ids: readonly number[], after: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The ids a list looks at, in its order: those greater than `after`, only those of `only` when given. Ascending or
 * descending, without copying the whole id list.
 */
export function* idsInOrder(
  store: Map<number, unknown>,
  after: number,
  only: ReadonlySet<number> | null,
  desc: boolean,
): Generator<number> {
  if (only) {
    const ids = [...only].filter((id) => id > after && store.has(id)).sort((a, b) => (desc ? b - a : a - b));
    yield* ids;
    return;
  }
  const ids = sortedIds(store);
  const from = Number.isFinite(after) ? firstAfter(ids, after) : 0;
  if (desc) for (let i = ids.length - 1; i >= from; i--) yield ids[i]!;
  else for (let i = from; i < ids.length; i++) yield ids[i]!;
}
