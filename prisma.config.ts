// Prisma CLI configuration: the JS engine with a driver adapter, so no native engine is downloaded.
// DATABASE_URL must be set whenever the CLI runs (scripts/with-db.ts does that for the embedded database).
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? "" });
  },
});
