import { describe, expect, it } from "vitest";
import { mixedMinimum } from "../../bench/crm-coverage";

// The figure `npm run bench -- crm` prints beside the mixed backfill's wall time (docs/performance.md): the least time
// Bitrix24's default limits allow, product rows included. Arithmetic only — benchmarks themselves never assert.
describe("mixed backfill minimum", () => {
  const mix = (each: number) => ({
    deal: each,
    contact: each,
    company: 10,
    lead: 10,
    quote: each,
    smart_invoice: each,
    dynamic_128: each,
  });

  it("counts list batches per type, one product-row command per owner of a type with rows, 50 to a request", () => {
    const m = mixedMinimum(mix(2000));
    // 7 types × (count + fields + 1 batch); rows: 4 × ⌈2000/50⌉ + ⌈10/50⌉ for the leads (contacts, companies: none)
    expect(m).toMatchObject({ listRequests: 21, rowRequests: 161, requests: 182, bucketS: 66, operatingS: 0 });
    expect(m.method).toBe("crm.item.productrow.list");
    expect(m.opS).toBeCloseTo(8010 * 0.05);
  });

  it("at 100 000 records the product rows' operating time binds, far above the bucket", () => {
    const m = mixedMinimum(mix(20_000));
    expect(m.rowRequests).toBe(4 * 400 + 1);
    expect(m.opS).toBeCloseTo(80_010 * 0.05);
    expect(m.operatingS).toBeCloseTo((600 * (80_010 * 0.05 - 480)) / 480);
    expect(m.minimumS).toBe(m.operatingS);
    expect(m.minimumS).toBeGreaterThan(m.bucketS);
  });

  it("every type, the legacy four included, shares crm.item.list's operating time", () => {
    const m = mixedMinimum({ quote: 250_000, smart_invoice: 250_000, contact: 10 });
    // per type ⌊250000/2500⌋+1 = 101 batches of 50 lists + the count, under one method; the contacts' 1 batch too
    expect(m.op["crm.item.list"]).toBeCloseTo((2 * 5051 + 51) * 0.05);
    expect(m.op["crm.contact.list"]).toBeUndefined();
  });
});
