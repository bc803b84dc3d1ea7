import { describe, expect, it } from "vitest";
import { diffRecords, READ_PATH_FIELD } from "@/lib/history/diff";
import { keyMapOf, legacyFieldMeta, legacyKeyOf, legacyRecordOf, multifieldsOf } from "@/lib/history/legacy-items";

// crm.item.fields of a lead as the docs show it (b24restdocs crm/universal/object-fields.md#lead), trimmed.
const LEAD_FIELDS = {
  id: { type: "integer", upperName: "ID" },
  title: { type: "string", upperName: "TITLE" },
  stageId: { type: "crm_status", upperName: "STAGE_ID" },
  stageSemanticId: { type: "string", upperName: "STAGE_SEMANTIC_ID", isReadOnly: true },
  createdBy: { type: "user", upperName: "CREATED_BY" },
  updatedBy: { type: "user", upperName: "UPDATED_BY" },
  updatedTime: { type: "datetime", upperName: "UPDATED_TIME" },
  opportunity: { type: "double", upperName: "OPPORTUNITY" },
  opened: { type: "boolean", upperName: "OPENED" },
  fm: { type: "crm_multifield", isMultiple: true, upperName: "FM" },
  UF_CRM_VIP: { type: "boolean", upperName: "UF_CRM_VIP" },
};
const meta = legacyFieldMeta("lead", LEAD_FIELDS, { PHONE: "Phone", EMAIL: "E-mail" });

describe("legacy keys of item fields", () => {
  it("takes upperName, except the renamed bookkeeping fields and a lead's stage (its STATUS_ID)", () => {
    expect(legacyKeyOf("lead", "stageId", "STAGE_ID")).toBe("STATUS_ID");
    expect(legacyKeyOf("deal", "stageId", "STAGE_ID")).toBe("STAGE_ID");
    expect(legacyKeyOf("deal", "updatedBy", "UPDATED_BY")).toBe("MODIFY_BY_ID");
    expect(legacyKeyOf("contact", "createdTime", "CREATED_TIME")).toBe("DATE_CREATE");
    expect(legacyKeyOf("company", "UF_CRM_1_DIGIT10", "UF_CRM_1_DIGIT10")).toBe("UF_CRM_1_DIGIT10");
    expect(Object.keys(meta).sort()).toEqual([
      "ADDRESS",
      "ADDRESS_2",
      "ADDRESS_CITY",
      "ADDRESS_COUNTRY",
      "ADDRESS_POSTAL_CODE",
      "ADDRESS_PROVINCE",
      "ADDRESS_REGION",
      "CREATED_BY_ID",
      "DATE_MODIFY",
      "EMAIL",
      "ID",
      "IM",
      "LINK",
      "MODIFY_BY_ID",
      "OPENED",
      "OPPORTUNITY",
      "PHONE",
      "STATUS_ID",
      "STATUS_SEMANTIC_ID",
      "TITLE",
      "UF_CRM_VIP",
      "WEB",
    ]);
    expect(meta.PHONE).toMatchObject({ type: "crm_multifield", isMultiple: true, title: "Phone", itemName: "fm" });
    // a lead's address comes from crm.address.list (lib/history/lead-address.ts), never from an item field
    expect(meta.ADDRESS_CITY).toMatchObject({ type: "string", itemName: "crm.address" });
    expect(keyMapOf(meta).has("crm.address")).toBe(false);
    expect(legacyFieldMeta("deal", { fm: LEAD_FIELDS.fm }, {})).toEqual({}); // deals have no multifields
  });
});

describe("an item as the record its old-path snapshot holds", () => {
  const item = {
    id: 7,
    title: "Lead #7",
    stageId: "NEW",
    stageSemanticId: "P",
    createdBy: 1,
    updatedBy: 3,
    opened: "Y",
    updatedTime: "2026-12-01T10:00:00+03:00",
    opportunity: 1002,
    UF_CRM_VIP: "Y",
    entityTypeId: 1,
    phone: "+49 30 1",
    email: "a@b.de",
    dateModifyShort: "2026-12-01T00:00:00+03:00",
    searchContent: "Lead 7",
    fm: [
      { id: 11, typeId: "PHONE", valueType: "WORK", value: "+49 30 1" },
      { id: 12, typeId: "EMAIL", valueType: "HOME", value: "a@b.de" },
    ],
  };
  const record = legacyRecordOf(item, keyMapOf(meta));

  it("uses legacy keys, drops response-only fields and splits fm into PHONE/EMAIL/WEB/IM/LINK", () => {
    expect(record).toEqual({
      ID: 7,
      TITLE: "Lead #7",
      STATUS_ID: "NEW",
      STATUS_SEMANTIC_ID: "P",
      CREATED_BY_ID: 1,
      MODIFY_BY_ID: 3,
      OPENED: "Y",
      DATE_MODIFY: "2026-12-01T10:00:00+03:00",
      OPPORTUNITY: 1002,
      UF_CRM_VIP: "Y",
      PHONE: [{ ID: "11", VALUE_TYPE: "WORK", VALUE: "+49 30 1", TYPE_ID: "PHONE" }],
      EMAIL: [{ ID: "12", VALUE_TYPE: "HOME", VALUE: "a@b.de", TYPE_ID: "EMAIL" }],
      WEB: [],
      IM: [],
      LINK: [],
      [READ_PATH_FIELD]: "item",
    });
  });

  it("diffs to nothing against the same record read through crm.lead.list (other spellings, fewer fields)", () => {
    const old = {
      ID: "7",
      TITLE: "Lead #7",
      STATUS_ID: "NEW",
      OPPORTUNITY: "1002.00",
      OPENED: "Y",
      UF_CRM_VIP: "1",
      MODIFY_BY_ID: "3",
      DATE_MODIFY: "2026-12-01T10:00:00+03:00",
      ADDRESS: "Legacy street 1",
      PHONE: [{ ID: "11", VALUE_TYPE: "WORK", VALUE: "+49 30 1", TYPE_ID: "PHONE" }],
      EMAIL: [{ ID: "12", VALUE_TYPE: "HOME", VALUE: "a@b.de", TYPE_ID: "EMAIL" }],
    };
    expect(diffRecords(meta, old, record)).toEqual([]); // STATUS_SEMANTIC_ID, WEB… are new to the snapshot: baseline
    // once both reads are through crm.item.*, a field appearing is a change again
    const next = { ...record, STATUS_ID: "IN_PROCESS" };
    expect(diffRecords(meta, record, next)).toEqual([{ field: "STATUS_ID", oldValue: "NEW", newValue: "IN_PROCESS" }]);
    expect(
      diffRecords(meta, { ...record, WEB: undefined }, { ...record, WEB: [{ VALUE_TYPE: "WORK", VALUE: "x.de" }] }),
    ).toHaveLength(1);
  });

  it("ignores an fm entry of a type it does not know", () => {
    expect(multifieldsOf([{ id: 1, typeId: "FAX", valueType: "WORK", value: "1" }]).PHONE).toEqual([]);
  });
});
