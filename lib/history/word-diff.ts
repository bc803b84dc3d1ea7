import type { ValuePart } from "@/lib/history/format";

// A long text's change word by word (issue #16: a 2 000-character comment edited by one word reads as that word).

/** Above this many words on both sides the diff marks the changed middle as a whole (the LCS table is n × m). */
const MAX_DIFF_CELLS = 250_000;

const words = (s: string) => s.split(/(\s+)/).filter((w) => w !== "");

function push(parts: ValuePart[], text: string, mark?: "del" | "ins") {
  if (!text) return;
  const last = parts[parts.length - 1];
  if (last && last.mark === mark && !last.href) last.text += text;
  else parts.push(mark ? { text, mark } : { text });
}

/**
 * Two texts word by word: the old one with its removed words marked `del`, the new one with its added words marked
 * `ins` (longest common subsequence of words, after the common start and end are set aside).
 */
export function wordDiff(before: string, after: string): { old: ValuePart[]; new: ValuePart[] } {
  const a = words(before);
  const b = words(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  const midA = a.slice(start, a.length - end);
  const midB = b.slice(start, b.length - end);
  const same = (ws: string[]) => ws.join("");
  const oldParts: ValuePart[] = [];
  const newParts: ValuePart[] = [];
  push(oldParts, same(a.slice(0, start)));
  push(newParts, same(b.slice(0, start)));
  if (midA.length * midB.length > MAX_DIFF_CELLS) {
    push(oldParts, same(midA), "del");
    push(newParts, same(midB), "ins");
  } else {
    const n = midA.length;
    const m = midB.length;
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        push(oldParts, midA[i]!);
        push(newParts, midB[j]!);
        i++;
        j++;
      } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
        push(newParts, midB[j++]!, "ins");
      } else {
        push(oldParts, midA[i++]!, "del");
      }
    }
  }
  push(oldParts, same(a.slice(a.length - end)));
  push(newParts, same(b.slice(b.length - end)));
  return { old: oldParts, new: newParts };
}
