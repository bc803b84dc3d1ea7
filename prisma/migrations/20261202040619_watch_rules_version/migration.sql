-- AlterTable
ALTER TABLE "Portal" ADD COLUMN     "watchRulesVersion" INTEGER NOT NULL DEFAULT 0;

