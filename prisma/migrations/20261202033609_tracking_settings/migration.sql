-- AlterTable
ALTER TABLE "Portal" ADD COLUMN     "untrackedFields" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "untrackedTypes" TEXT[] DEFAULT ARRAY[]::TEXT[];

