-- CreateTable
CREATE TABLE "AuditExport" (
    "id" TEXT NOT NULL,
    "portalId" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "filters" JSONB NOT NULL,
    "format" TEXT NOT NULL,
    "lang" TEXT NOT NULL DEFAULT 'en',
    "timeZone" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "rowsWritten" INTEGER NOT NULL DEFAULT 0,
    "totalEstimate" INTEGER,
    "fileName" TEXT,
    "driveFileId" TEXT,
    "driveUrl" TEXT,
    "files" JSONB NOT NULL DEFAULT '[]',
    "error" TEXT,
    "userTokenEnc" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "AuditExport_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AuditExport_portalId_createdAt_idx" ON "AuditExport"("portalId", "createdAt");

-- AddForeignKey
ALTER TABLE "AuditExport" ADD CONSTRAINT "AuditExport_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

