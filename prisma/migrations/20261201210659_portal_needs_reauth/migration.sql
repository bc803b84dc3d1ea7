-- AlterEnum
ALTER TYPE "PortalStatus" ADD VALUE 'needs_reauth';

-- AlterTable
ALTER TABLE "Portal" ADD COLUMN     "tokensProblem" TEXT;

