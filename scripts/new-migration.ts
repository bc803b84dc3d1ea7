// npm run db:new-migration -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql as a schema-to-schema diff between the schema of the
// previous migration (kept beside it as schema.prisma) and prisma/schema.prisma. `migrate dev` needs a native
// engine we cannot download, so this is how migrations are made here (docs/decisions/002).
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const name = (process.argv[2] ?? "").trim();
if (!/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:new-migration -- <name>   (name: lower-case letters, digits, underscores)");
  process.exit(2);
}
const dir = "prisma/migrations";
const previous = existsSync(dir)
  ? readdirSync(dir)
      .filter((d) => /^\d{14}_/.test(d))
      .sort()
      .at(-1)
  : undefined;
const from = previous ? ["--from-schema-datamodel", path.join(dir, previous, "schema.prisma")] : ["--from-empty"];
const sql = execFileSync(
  "npx",
  ["prisma", "migrate", "diff", ...from, "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
  {
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://x:x@127.0.0.1:1/x" },
  },
);
if (!/\b(CREATE|ALTER|DROP)\b/.test(sql)) {
  console.log("No schema changes: no migration written.");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const target = path.join(dir, `${stamp}_${name}`);
mkdirSync(target, { recursive: true });
writeFileSync(path.join(target, "migration.sql"), sql);
copyFileSync("prisma/schema.prisma", path.join(target, "schema.prisma"));
if (!existsSync(path.join(dir, "migration_lock.toml")))
  writeFileSync(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
console.log(`Wrote ${target}/migration.sql`);
