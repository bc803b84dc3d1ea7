/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // pino and pg are server-only Node packages; keep them out of the bundler.
  serverExternalPackages: ["pino", "pg", "@prisma/adapter-pg", "@electric-sql/pglite"],
  typedRoutes: false,
};

export default nextConfig;
