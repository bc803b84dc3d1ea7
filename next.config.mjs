/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // pino and pg are server-only Node packages; keep them out of the bundler.
  serverExternalPackages: ["pino", "pg", "@prisma/adapter-pg", "@electric-sql/pglite"],
  typedRoutes: false,
  // unauthorized() and forbidden(): the CRM placements answer 401 and 403 as pages (docs/decisions/013-placements-as-react-pages.md).
  experimental: { authInterrupts: true },
};

export default nextConfig;
