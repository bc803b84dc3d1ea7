import { describe, expect, it } from "vitest";
import {
  crmLinkTarget,
  formatBoolean,
  formatChange,
  formatDateTime,
  formatDay,
  formatFieldValue,
  formatFile,
  formatMoney,
  recordTitle,
  safeUrl,
  type ValueContext,
} from "@/lib/history/format";
import { wordDiff } from "@/lib/history/word-diff";

// Intl puts a no-break space (U+00A0) or a narrow one (U+202F) where a person reads a space: compared as spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

const ctx = (lang: string, more: Partial<ValueContext> = {}): ValueContext => ({
  lang,
  words: lang === "ru" ? { yes: "Да", no: "Нет", file: "Файл" } : { yes: "Yes", no: "No", file: "File" },
  userName: (id) => (({ 1: "Anna Admin", 4: "Dmitry Support" }) as Record<number, string>)[id],
  recordName: (entity, id) => (entity === "company" && id === 5 ? "Atlas GmbH #5" : `${entity} #${id}`),
  ...more,
});

describe("money", () => {
  it("reads a money field's amount|currency in the user's locale", () => {
    expect(plain(formatMoney("1002|USD", "en"))).toBe("US$1,002.00");
    expect(plain(formatMoney("1002|USD", "ru"))).toBe("1 002,00 $");
    expect(plain(formatMoney("1500.5|EUR", "en"))).toBe("€1,500.50");
    expect(plain(formatMoney("1500.5|RUB", "ru"))).toBe("1 500,50 ₽");
  });
  it("gives an amount the record's currency, keeps what is not an amount, and an empty one is a dash", () => {
    expect(plain(formatMoney("30000.00", "en", "EUR"))).toBe("€30,000.00");
    expect(formatMoney("", "en")).toBe("—");
    expect(formatMoney("old 1", "en", "EUR")).toBe("old 1");
    expect(plain(formatMoney("12|XYZ", "en"))).toMatch(/12\.00|XYZ/);
  });
});

describe("booleans", () => {
  it("are Yes/No (Да/Нет) whether Bitrix24 sends 1/0 (crm.deal) or Y/N (crm.item, char flags)", () => {
    const en = { yes: "Yes", no: "No" };
    const ru = { yes: "Да", no: "Нет" };
    expect(["1", "0", "Y", "N", true, false].map((v) => formatBoolean(v, en))).toEqual([
      "Yes",
      "No",
      "Yes",
      "No",
      "Yes",
      "No",
    ]);
    expect([formatBoolean("Y", ru), formatBoolean("0", ru), formatBoolean(null, ru)]).toEqual(["Да", "Нет", "—"]);
  });
});

describe("dates", () => {
  it("shows a date as the day it is, in the user's locale, never shifted by a zone", () => {
    expect(formatDay("2026-12-31", "en")).toBe("31/12/2026");
    expect(formatDay("2026-12-31", "ru")).toBe("31.12.2026");
    expect(formatDay("2026-12-31T00:00:00+03:00", "en")).toBe("31/12/2026"); // crm.item's midnight at +03:00
  });
  it("shows a date-time in the user's time zone, or in UTC saying so", () => {
    const at = "2026-11-30T10:02:00+03:00";
    expect(formatDateTime(at, "en", "Asia/Tokyo")).toBe("30/11/2026, 16:02:00");
    expect(formatDateTime(at, "ru", "Europe/Moscow")).toBe("30.11.2026, 10:02:00");
    expect(formatDateTime(at, "en")).toBe("30/11/2026, 07:02:00 UTC");
    expect(formatDateTime("not a date", "en")).toBe("not a date");
  });
});

describe("users and linked records", () => {
  it("names users (user fields, employee custom fields) and falls back to the id", () => {
    const meta = { type: "user" };
    expect(formatFieldValue("4", "ASSIGNED_BY_ID", meta, ctx("en")).text).toBe("Dmitry Support");
    expect(formatFieldValue(["1", 4], "UF_CRM_CURATOR", { type: "employee" }, ctx("en")).text).toBe(
      "Anna Admin, Dmitry Support",
    );
    expect(formatFieldValue("77", "ASSIGNED_BY_ID", meta, ctx("en")).text).toBe("#77");
  });
  it("names a linked record by its title, in every form a CRM link takes", () => {
    expect(formatFieldValue("5", "COMPANY_ID", { type: "crm_company" }, ctx("en")).text).toBe("Atlas GmbH #5");
    expect(crmLinkTarget("CO_5", "crm")).toEqual({ entity: "company", id: 5 });
    expect(crmLinkTarget("T80_3", "crm")).toEqual({ entity: "dynamic_128", id: 3 });
    expect(crmLinkTarget("7", "crm", { COMPANY: "Y", CONTACT: "N" })).toEqual({ entity: "company", id: 7 });
    expect(crmLinkTarget("7", "crm", { COMPANY: "Y", CONTACT: "Y" })).toBeNull(); // ambiguous: shown as it is
    expect(crmLinkTarget("0", "crm_contact")).toBeNull();
  });
  it("takes a record's name from TITLE, title or a contact's NAME LAST_NAME", () => {
    expect(recordTitle({ TITLE: "Alpha Nova #9" })).toBe("Alpha Nova #9");
    expect(recordTitle({ title: "Website relaunch" })).toBe("Website relaunch");
    expect(recordTitle({ NAME: "Maria", LAST_NAME: "Quartz" })).toBe("Maria Quartz");
    expect(recordTitle({ TITLE: "" })).toBeUndefined();
  });
});

describe("enumerations and statuses", () => {
  it("are shown by their label", () => {
    const meta = { type: "enumeration", items: [{ ID: "41", VALUE: "Website" }] };
    expect(formatFieldValue("41", "UF_CRM_SOURCE", meta, ctx("en")).text).toBe("Website");
  });
});

describe("files", () => {
  it("are named, with the portal's link made absolute; a link that is not http(s) is dropped", () => {
    const file = { id: 3, name: "contract.pdf", showUrl: "/bitrix/show_file.php?fileId=3" };
    expect(formatFile(file, "File", "https://acme.bitrix24.com")).toEqual({
      text: "contract.pdf",
      parts: [{ text: "contract.pdf", href: "https://acme.bitrix24.com/bitrix/show_file.php?fileId=3" }],
    });
    expect(formatFile({ id: 4, url: "javascript:alert(1)" }, "Файл")).toEqual({
      text: "Файл #4",
      parts: [{ text: "Файл #4" }],
    });
    expect(safeUrl("data:text/html,x")).toBeUndefined();
  });

  it("take the name read from the file's download when the portal gives none, and say File #id without one", () => {
    const nameOf = (id: string) => ({ "7": "Договор № 5.pdf" })[id];
    const file = { id: 7, url: "/bitrix/services/main/ajax.php?action=crm.controller.item.getFile&fileId=7" };
    expect(formatFile(file, "File", "https://acme.bitrix24.com", nameOf).parts).toEqual([
      { text: "Договор № 5.pdf", href: `https://acme.bitrix24.com${file.url}` },
    ]);
    expect(formatFile("7", "File", undefined, nameOf).text).toBe("Договор № 5.pdf"); // a stored change keeps the id
    expect(formatFile({ id: 8, url: file.url }, "File", undefined, nameOf).text).toBe("File #8");
  });
});

describe("long texts", () => {
  it("mark only the words that changed", () => {
    const d = wordDiff("the quick brown fox jumps", "the quick red fox jumps high");
    expect(d.old).toEqual([{ text: "the quick " }, { text: "brown", mark: "del" }, { text: " fox jumps" }]);
    expect(d.new).toEqual([
      { text: "the quick " },
      { text: "red", mark: "ins" },
      { text: " fox jumps" },
      { text: " high", mark: "ins" },
    ]);
  });
  it("are diffed above 200 characters only; short texts stay whole", () => {
    const long = `${"word ".repeat(50)}end`;
    const f = formatChange(long, long.replace("end", "finish"), "COMMENTS", { type: "string" }, ctx("en"));
    expect(f.new.parts?.filter((p) => p.mark)).toEqual([{ text: "finish", mark: "ins" }]);
    expect(f.new.text).toBe(long.replace("end", "finish")); // the CSV keeps the whole text
    expect(formatChange("a", "b", "COMMENTS", { type: "string" }, ctx("en")).new.parts).toBeUndefined();
  });
});
