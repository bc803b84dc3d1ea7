-- CreateTable
CREATE TABLE "RestLog" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "portalId" TEXT,
    "host" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "lane" TEXT,
    "status" INTEGER NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "errorCode" TEXT,
    "params" TEXT NOT NULL,
    "response" TEXT NOT NULL,

    CONSTRAINT "RestLog_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RestLog_portalId_at_id_idx" ON "RestLog"("portalId", "at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "RestLog_portalId_method_at_id_idx" ON "RestLog"("portalId", "method", "at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "RestLog_at_idx" ON "RestLog"("at");

-- CreateIndex
CREATE INDEX "Portal_domain_idx" ON "Portal"("domain");

