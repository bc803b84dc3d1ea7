-- AlterTable
ALTER TABLE "Portal" ADD COLUMN     "retentionYears" INTEGER;

-- CreateIndex
CREATE INDEX "FieldChange_portalId_changedAt_idx" ON "FieldChange"("portalId", "changedAt");

