// Malformed-input generator for the adversarial suite: every body a hostile or broken client could send to a public
// route. Deterministic (seeded) so a failure can be replayed by its index.

export interface FuzzCase {
  name: string;
  contentType: string | null;
  body: string | Uint8Array;
}

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FORM = "application/x-www-form-urlencoded";
const VALID_EVENT =
  "event=ONCRMDEALUPDATE&event_handler_id=201&data%5BFIELDS%5D%5BID%5D=759&ts=1736405807" +
  "&auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Bmember_id%5D=a223c6b3710f85df22e9377d6c4f7553" +
  "&auth%5Bapplication_token%5D=51856fefc120afa4b628cc82d3935cce";

function fixedCases(): FuzzCase[] {
  const deep = "a" + "[x]".repeat(5000) + "=1";
  const many = Array.from({ length: 20000 }, (_, i) => `k${i}=v`).join("&");
  return [
    { name: "empty body", contentType: FORM, body: "" },
    { name: "no content type", contentType: null, body: VALID_EVENT },
    { name: "json instead of form", contentType: "application/json", body: JSON.stringify({ event: "ONAPPINSTALL" }) },
    { name: "broken json", contentType: "application/json", body: '{"event":' },
    { name: "multipart garbage", contentType: "multipart/form-data; boundary=x", body: "--x\r\nnonsense" },
    { name: "text/plain", contentType: "text/plain", body: "hello" },
    { name: "xml", contentType: "application/xml", body: "<event>ONAPPINSTALL</event>" },
    { name: "invalid utf-8", contentType: FORM, body: new Uint8Array([0x65, 0x3d, 0xff, 0xfe, 0xc3, 0x28]) },
    { name: "bad percent-encoding", contentType: FORM, body: "event=%E0%A4%A&auth%5Bmember_id%5D=%ZZ" },
    { name: "deep bracket nesting", contentType: FORM, body: deep },
    { name: "twenty thousand keys", contentType: FORM, body: many },
    { name: "huge field", contentType: FORM, body: `event=${"A".repeat(3_000_000)}` },
    { name: "__proto__ pollution", contentType: FORM, body: "__proto__%5Bpolluted%5D=1&event=ONAPPINSTALL" },
    { name: "constructor pollution", contentType: FORM, body: "constructor%5Bprototype%5D%5Bpolluted%5D=1" },
    { name: "nested __proto__", contentType: FORM, body: "auth%5B__proto__%5D%5Bx%5D=1&event=ONCRMDEALADD" },
    {
      name: "duplicated keys",
      contentType: FORM,
      body: `${VALID_EVENT}&event=ONAPPUNINSTALL&auth%5Bmember_id%5D=other`,
    },
    {
      name: "array where scalar",
      contentType: FORM,
      body: "event%5B%5D=ONAPPINSTALL&event%5B%5D=X&auth%5Bmember_id%5D%5B%5D=1",
    },
    { name: "scalar where object", contentType: FORM, body: "event=ONCRMDEALADD&auth=abc&data=1" },
    { name: "missing auth", contentType: FORM, body: "event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=1" },
    { name: "missing member_id", contentType: FORM, body: "event=ONCRMDEALADD&auth%5Bapplication_token%5D=x" },
    { name: "unknown portal", contentType: FORM, body: VALID_EVENT },
    { name: "null bytes", contentType: FORM, body: "event=ONAPP%00INSTALL&auth%5Bmember_id%5D=%00" },
    { name: "unbalanced brackets", contentType: FORM, body: "auth%5Bmember_id=1&data%5D%5B=2&%5B%5D=3" },
    { name: "only separators", contentType: FORM, body: "&&&===&&" },
    { name: "form with json content type", contentType: "application/json", body: VALID_EVENT },
    { name: "charset latin1", contentType: `${FORM}; charset=latin1`, body: "event=caf\xe9" },
    {
      name: "install without tokens",
      contentType: FORM,
      body: "event=ONAPPINSTALL&auth%5Bmember_id%5D=a223c6b3710f85df22e9377d6c4f7553",
    },
    {
      name: "placement without auth",
      contentType: FORM,
      body: "PLACEMENT=CRM_DEAL_DETAIL_TAB&PLACEMENT_OPTIONS=%7B%22ID%22%3A1%7D",
    },
    {
      name: "placement options not json",
      contentType: FORM,
      body: "AUTH_ID=x&member_id=y&PLACEMENT=CRM_DEAL_DETAIL_TAB&PLACEMENT_OPTIONS=%7Bnope",
    },
    {
      name: "server_endpoint elsewhere",
      contentType: FORM,
      body: "AUTH_ID=x&REFRESH_ID=y&member_id=z&SERVER_ENDPOINT=https%3A%2F%2Fevil.example%2Frest%2F",
    },
  ];
}

const KEYS = [
  "event",
  "data",
  "auth",
  "ts",
  "member_id",
  "AUTH_ID",
  "PLACEMENT",
  "PLACEMENT_OPTIONS",
  "__proto__",
  "x",
];
const VALUES = [
  "",
  "0",
  "-1",
  "1e309",
  "null",
  "[]",
  "{}",
  "%",
  "%25",
  "\u202e",
  "😀",
  "<script>",
  "' OR 1=1 --",
  "A".repeat(5000),
];

function randomKey(rand: () => number): string {
  let key = KEYS[Math.floor(rand() * KEYS.length)]!;
  const depth = Math.floor(rand() * 6);
  for (let i = 0; i < depth; i++) key += rand() < 0.2 ? "[]" : `[${KEYS[Math.floor(rand() * KEYS.length)]}]`;
  return key;
}

/** `count` cases: the fixed hostile set first, then seeded random bracket bodies and byte noise. */
export function fuzzCases(count: number, seed = 24): FuzzCase[] {
  const rand = prng(seed);
  const cases = fixedCases();
  for (let i = cases.length; i < count; i++) {
    if (rand() < 0.15) {
      const bytes = new Uint8Array(Math.floor(rand() * 512));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      cases.push({ name: `random bytes #${i}`, contentType: rand() < 0.5 ? FORM : null, body: bytes });
      continue;
    }
    const pairs = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => {
      const k = rand() < 0.3 ? randomKey(rand) : encodeURIComponent(randomKey(rand));
      return `${k}=${encodeURIComponent(VALUES[Math.floor(rand() * VALUES.length)]!)}`;
    });
    cases.push({ name: `random form #${i}`, contentType: FORM, body: pairs.join(rand() < 0.1 ? ";" : "&") });
  }
  return cases;
}
