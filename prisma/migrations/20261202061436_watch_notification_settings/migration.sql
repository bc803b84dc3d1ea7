-- AlterTable
ALTER TABLE "Portal" ADD COLUMN     "watchNotifyResponsibleDefault" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "watchPaused" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "watchShowValues" BOOLEAN NOT NULL DEFAULT true;

