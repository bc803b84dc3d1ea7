import { describe, expect, it } from "vitest";
import { RecordMap, idsInOrder, sortedIds } from "./id-index";

describe("the fake's id index (keyset pages in O(page))", () => {
  it("lists past a cursor, both ways, and only the named ids", () => {
    const store = new RecordMap<string>();
    for (const id of [5, 1, 9, 3, 7]) store.set(id, `r${id}`);
    expect([...idsInOrder(store, 3, null, false)]).toEqual([5, 7, 9]);
    expect([...idsInOrder(store, -Infinity, null, true)]).toEqual([9, 7, 5, 3, 1]);
    expect([...idsInOrder(store, 1, new Set([9, 1, 4, 3]), false)]).toEqual([3, 9]); // 4 does not exist
  });

  it("sees an id added or removed after its ids were cached, and keeps them while only values change", () => {
    const store = new RecordMap<string>();
    for (let id = 1; id <= 3; id++) store.set(id, "a");
    const first = sortedIds(store);
    store.set(2, "b"); // a value changed: same ids, same cached list
    expect(sortedIds(store)).toBe(first);
    store.delete(2);
    store.set(10, "c"); // the same size as before, other ids
    expect(sortedIds(store)).toEqual([1, 3, 10]);
    expect([...idsInOrder(store, 1, null, false)]).toEqual([3, 10]);
  });
});
