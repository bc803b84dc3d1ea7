-- CreateTable
CREATE TABLE "CrmFileName" (
    "portalId" TEXT NOT NULL,
    "fileId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "fetchedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CrmFileName_pkey" PRIMARY KEY ("portalId","fileId")
);

-- AddForeignKey
ALTER TABLE "CrmFileName" ADD CONSTRAINT "CrmFileName_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

