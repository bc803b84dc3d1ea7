-- AlterTable
ALTER TABLE "Portal" ADD COLUMN     "reconcileEveryMin" INTEGER NOT NULL DEFAULT 15;

-- AlterTable
ALTER TABLE "FieldChange" ADD COLUMN     "mergedFrom" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "ReconcileRun" (
    "portalId" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "since" TEXT NOT NULL,
    "lastRunAt" TIMESTAMP(3),
    "listed" INTEGER NOT NULL DEFAULT 0,
    "recovered" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ReconcileRun_pkey" PRIMARY KEY ("portalId","entityType")
);

-- AddForeignKey
ALTER TABLE "ReconcileRun" ADD CONSTRAINT "ReconcileRun_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

