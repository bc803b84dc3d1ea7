-- CreateTable
CREATE TABLE "WatchRule" (
    "id" TEXT NOT NULL,
    "portalId" TEXT NOT NULL,
    "createdById" INTEGER NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "fields" TEXT[],
    "condition" TEXT NOT NULL,
    "onlyMine" BOOLEAN NOT NULL DEFAULT false,
    "notifyResponsible" BOOLEAN NOT NULL DEFAULT false,
    "triggerCode" TEXT,
    "lang" TEXT NOT NULL DEFAULT 'en',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WatchRule_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "WatchRule_portalId_active_idx" ON "WatchRule"("portalId", "active");

-- AddForeignKey
ALTER TABLE "WatchRule" ADD CONSTRAINT "WatchRule_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

