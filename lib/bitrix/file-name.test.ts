import { describe, expect, it } from "vitest";
import { nameInDisposition } from "@/lib/bitrix/http";

// Content-Disposition as Bitrix24's core sends a download (main/classes/general/file.php CFile::ViewByUser):
// `attachment; filename="<transliterated>"; filename*=utf-8''<Uri::urnEncode(name)>`, `inline; …` for an image.
describe("the name in a download's Content-Disposition", () => {
  it("is the utf-8 extended name first, decoded", () => {
    const header = `attachment; filename="Dogovor-N-5.pdf"; filename*=utf-8''${encodeURIComponent("Договор № 5.pdf")}`;
    expect(nameInDisposition(header)).toBe("Договор № 5.pdf");
    expect(nameInDisposition("inline; filename=\"a.png\"; filename*=UTF-8'en'a%20b.png")).toBe("a b.png");
  });

  it("falls back to the plain name: quoted (with escapes) or a bare token", () => {
    expect(nameInDisposition('attachment; filename="report \\"Q4\\".csv"')).toBe('report "Q4".csv');
    expect(nameInDisposition("attachment; filename=report.csv")).toBe("report.csv");
    // a charset other than utf-8, or a broken encoding, is not guessed at
    expect(nameInDisposition("attachment; filename=\"x.csv\"; filename*=iso-8859-1''%E4.csv")).toBe("x.csv");
    expect(nameInDisposition("attachment; filename=\"y.csv\"; filename*=utf-8''%E0%A4%A.csv")).toBe("y.csv");
  });

  it("is null when there is none", () => {
    expect(nameInDisposition(null)).toBeNull();
    expect(nameInDisposition("attachment")).toBeNull();
    expect(nameInDisposition('attachment; filename=""')).toBeNull();
  });
});
