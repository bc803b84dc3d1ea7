-- AuthFailure: one row per refused request becomes one row per portal, reason, route and minute with a count, so a
-- flood of forged requests cannot grow the table (lib/metrics/auth-failures.ts). Written by hand from the generated
-- diff: the rows of the last 7 days are kept, summed into their minutes, instead of failing on NOT NULL "minute".

-- Keep the old rows aside under other names
ALTER TABLE "AuthFailure" RENAME TO "AuthFailure_old";
ALTER TABLE "AuthFailure_old" RENAME CONSTRAINT "AuthFailure_pkey" TO "AuthFailure_old_pkey";
ALTER TABLE "AuthFailure_old" DROP CONSTRAINT "AuthFailure_portalId_fkey";
DROP INDEX "AuthFailure_portalId_createdAt_idx";

-- CreateTable
CREATE TABLE "AuthFailure" (
    "portalId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "AuthFailure_pkey" PRIMARY KEY ("portalId","reason","route","minute")
);

-- Aggregate what was kept
INSERT INTO "AuthFailure" ("portalId", "reason", "route", "minute", "count")
SELECT "portalId", "reason", "route", date_trunc('minute', "createdAt"), count(*)::int
FROM "AuthFailure_old"
WHERE "createdAt" >= (now() AT TIME ZONE 'UTC') - interval '7 days'
GROUP BY 1, 2, 3, 4;

DROP TABLE "AuthFailure_old";

-- CreateIndex
CREATE INDEX "AuthFailure_minute_idx" ON "AuthFailure"("minute");

-- AddForeignKey
ALTER TABLE "AuthFailure" ADD CONSTRAINT "AuthFailure_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;
