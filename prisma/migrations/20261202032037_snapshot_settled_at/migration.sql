-- AlterTable
ALTER TABLE "CrmSnapshot" ADD COLUMN     "settledAt" TIMESTAMP(3);

