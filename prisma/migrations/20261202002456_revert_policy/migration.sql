-- AlterTable
ALTER TABLE "Portal" ADD COLUMN     "revertPolicy" TEXT NOT NULL DEFAULT 'editors';

