import next from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";
import prettier from "eslint-config-prettier/flat";

// Layers run one way (docs/architecture.md): primitives (lib/*.ts, lib/jobs, lib/http) → the vendor client and the
// portal's stored state (lib/bitrix, lib/portals) → domain modules (lib/history, lib/events, lib/lifecycle, lib/watch,
// lib/admin, ...) → the worker's composition root (lib/composition) → routes and pages (app/, components/).
const UI_AND_ROUTES = {
  group: ["@/components/*", "@/app/*", "**/components/*", "**/app/*"],
  message: "lib/ must not import from components/ or app/ (layers run one way)",
};
const WORKER = {
  group: ["@/lib/composition/*", "**/lib/composition/*", "**/composition/*"],
  message:
    "lib/composition/ is the composition root: only processes import it, never a lib/ module (layers run one way)",
};
const DOMAINS = {
  group: [
    "@/lib/history/*",
    "@/lib/events/*",
    "@/lib/lifecycle/*",
    "@/lib/watch/*",
    "@/lib/admin/*",
    "@/lib/composition/*",
  ],
  message: "a primitive must not import a domain module (layers run one way)",
};

const config = [
  ...next,
  ...nextTs,
  { ignores: [".next/**", ".data/**", "node_modules/**", "next-env.d.ts", "test-results/**", "playwright-report/**"] },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Layers run one way (docs/architecture.md): lib/ is the domain and never reaches up into the UI or the routes.
    files: ["lib/**/*.ts", "lib/**/*.tsx"],
    ignores: ["lib/composition/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [UI_AND_ROUTES, WORKER] }],
    },
  },
  {
    // The composition root (lib/composition/) imports every domain; only the processes that run it (instrumentation,
    // scripts, tests) import it. It may not reach up into the UI or the routes either.
    files: ["lib/composition/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [UI_AND_ROUTES] }] },
  },
  {
    // Under the domains: the small modules at lib/'s top, the queue and lease (lib/jobs), the route wrapper
    // (lib/http), the vendor client (lib/bitrix) and the portal's stored state (lib/portals) never import a domain.
    files: ["lib/*.ts", "lib/jobs/**/*.ts", "lib/http/**/*.ts", "lib/bitrix/**/*.ts", "lib/portals/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [UI_AND_ROUTES, WORKER, DOMAINS] }] },
  },
  // Last: Prettier owns the layout (npm run format), so no lint rule argues with it.
  prettier,
];
export default config;
