import { describe, expect, it } from "vitest";
import { escapeHtml, html, jsonScript } from "@/lib/html";

describe("html", () => {
  it("escapes every interpolated value, not the template", () => {
    const evil = `"><script>alert('x')</script>&`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(`<p title="${escapeHtml(evil)}">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>`);
  });

  it("nests templates and arrays without escaping them twice, and drops null, undefined and false", () => {
    const items = ["a<b", "c"].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}${null}${undefined}${false}${0}</ul>`.value).toBe("<ul><li>a&lt;b</li><li>c</li>0</ul>");
  });

  it("keeps JSON inside a script element from closing it", () => {
    const out = jsonScript("data", { text: "</script><script>alert(1)</script>" }).value;
    expect(out).not.toContain("</script><script>");
    expect(JSON.parse(out.replace(/^<script[^>]*>/, "").replace(/<\/script>$/, ""))).toEqual({ text: "</script><script>alert(1)</script>" });
  });
});
