-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "PortalStatus" AS ENUM ('active', 'uninstalled', 'payment_required', 'disabled');

-- CreateEnum
CREATE TYPE "InboxStatus" AS ENUM ('pending', 'processing', 'done', 'dead');

-- CreateTable
CREATE TABLE "Portal" (
    "id" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "clientEndpoint" TEXT NOT NULL,
    "serverEndpoint" TEXT NOT NULL,
    "status" "PortalStatus" NOT NULL DEFAULT 'active',
    "installStage" TEXT NOT NULL DEFAULT 'started',
    "appVersion" TEXT,
    "licenseStatus" TEXT,
    "licenseFamily" TEXT,
    "languageId" TEXT,
    "applicationTokenHash" TEXT,
    "rateBurst" INTEGER NOT NULL DEFAULT 50,
    "rateDrainPerSec" DOUBLE PRECISION NOT NULL DEFAULT 2,
    "terminalReason" TEXT,
    "installedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "uninstalledAt" TIMESTAMP(3),
    "lastSeenAt" TIMESTAMP(3),
    "lastProbeAt" TIMESTAMP(3),

    CONSTRAINT "Portal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TokenSet" (
    "portalId" TEXT NOT NULL,
    "accessTokenEnc" TEXT NOT NULL,
    "refreshTokenEnc" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "scope" TEXT NOT NULL,
    "userId" INTEGER,
    "version" INTEGER NOT NULL DEFAULT 0,
    "refreshedAt" TIMESTAMP(3),
    "refreshLockedAt" TIMESTAMP(3),
    "refreshLockedBy" TEXT,
    "lastRefreshError" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TokenSet_pkey" PRIMARY KEY ("portalId")
);

-- CreateTable
CREATE TABLE "CapabilityProfile" (
    "portalId" TEXT NOT NULL,
    "scopes" TEXT[],
    "methods" JSONB NOT NULL,
    "features" JSONB NOT NULL,
    "problems" JSONB NOT NULL DEFAULT '[]',
    "fetchedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CapabilityProfile_pkey" PRIMARY KEY ("portalId")
);

-- CreateTable
CREATE TABLE "RateBucket" (
    "portalId" TEXT NOT NULL,
    "level" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "blockedUntil" TIMESTAMP(3),
    "limitHits" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "RateBucket_pkey" PRIMARY KEY ("portalId")
);

-- CreateTable
CREATE TABLE "MethodOperating" (
    "portalId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "operating" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "resetAt" TIMESTAMP(3),
    "pausedUntil" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MethodOperating_pkey" PRIMARY KEY ("portalId","method")
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" BIGSERIAL NOT NULL,
    "memberId" TEXT NOT NULL,
    "portalId" TEXT,
    "action" TEXT NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EventInbox" (
    "id" BIGSERIAL NOT NULL,
    "portalId" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'online',
    "payload" JSONB NOT NULL,
    "status" "InboxStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedAt" TIMESTAMP(3),
    "lockedBy" TEXT,
    "lastError" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processedAt" TIMESTAMP(3),

    CONSTRAINT "EventInbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OfflineClaim" (
    "id" BIGSERIAL NOT NULL,
    "portalId" TEXT NOT NULL,
    "processId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'claimed',
    "eventCount" INTEGER NOT NULL DEFAULT 0,
    "claimedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "clearedAt" TIMESTAMP(3),
    "lastError" TEXT,

    CONSTRAINT "OfflineClaim_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PendingCall" (
    "id" TEXT NOT NULL,
    "portalId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "purpose" TEXT,
    "result" JSONB,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "resolvedAt" TIMESTAMP(3),

    CONSTRAINT "PendingCall_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BindingState" (
    "portalId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "handler" TEXT NOT NULL DEFAULT '',
    "expected" BOOLEAN NOT NULL DEFAULT true,
    "actual" BOOLEAN NOT NULL DEFAULT false,
    "lastError" TEXT,
    "checkedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BindingState_pkey" PRIMARY KEY ("portalId","kind","code","mode")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" BIGSERIAL NOT NULL,
    "portalId" TEXT,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "dedupeKey" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "runAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedAt" TIMESTAMP(3),
    "lockedBy" TEXT,
    "lastError" TEXT,
    "result" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MetricSample" (
    "portalId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL DEFAULT 0,

    CONSTRAINT "MetricSample_pkey" PRIMARY KEY ("portalId","name","minute")
);

-- CreateTable
CREATE TABLE "AuthFailure" (
    "id" BIGSERIAL NOT NULL,
    "portalId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuthFailure_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GlobalCounter" (
    "name" TEXT NOT NULL,
    "value" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GlobalCounter_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "CrmSnapshot" (
    "portalId" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "entityId" INTEGER NOT NULL,
    "fields" JSONB NOT NULL,
    "modifiedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CrmSnapshot_pkey" PRIMARY KEY ("portalId","entityType","entityId")
);

-- CreateTable
CREATE TABLE "FieldChange" (
    "id" BIGSERIAL NOT NULL,
    "portalId" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "entityId" INTEGER NOT NULL,
    "field" TEXT NOT NULL,
    "oldValue" JSONB,
    "newValue" JSONB,
    "changedById" INTEGER,
    "changedAt" TIMESTAMP(3) NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'event',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FieldChange_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CrmFieldMeta" (
    "portalId" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "fields" JSONB NOT NULL,
    "fetchedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CrmFieldMeta_pkey" PRIMARY KEY ("portalId","entityType")
);

-- CreateTable
-- (its key columns on one line: whitespace only, the same statement every database ran)
CREATE TABLE "UserNameCache" (
    "portalId" TEXT NOT NULL, "userId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "fetchedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UserNameCache_pkey" PRIMARY KEY ("portalId","userId")
);

-- CreateTable
CREATE TABLE "BackfillRun" (
    "portalId" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "lastId" INTEGER NOT NULL DEFAULT 0,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "lastError" TEXT,

    CONSTRAINT "BackfillRun_pkey" PRIMARY KEY ("portalId","entityType")
);

-- CreateIndex
CREATE UNIQUE INDEX "Portal_memberId_key" ON "Portal"("memberId");

-- CreateIndex
CREATE INDEX "AuditLog_memberId_createdAt_idx" ON "AuditLog"("memberId", "createdAt");

-- CreateIndex
CREATE INDEX "EventInbox_status_nextAttemptAt_idx" ON "EventInbox"("status", "nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "EventInbox_portalId_idempotencyKey_key" ON "EventInbox"("portalId", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "OfflineClaim_portalId_processId_key" ON "OfflineClaim"("portalId", "processId");

-- CreateIndex
CREATE INDEX "PendingCall_portalId_status_idx" ON "PendingCall"("portalId", "status");

-- CreateIndex
CREATE INDEX "PendingCall_portalId_tokenHash_method_idx" ON "PendingCall"("portalId", "tokenHash", "method");

-- CreateIndex
CREATE UNIQUE INDEX "Job_dedupeKey_key" ON "Job"("dedupeKey");

-- CreateIndex
CREATE INDEX "Job_status_runAt_idx" ON "Job"("status", "runAt");

-- CreateIndex
CREATE INDEX "AuthFailure_portalId_createdAt_idx" ON "AuthFailure"("portalId", "createdAt");

-- CreateIndex
CREATE INDEX "FieldChange_portalId_entityType_entityId_changedAt_id_idx" ON "FieldChange"("portalId", "entityType", "entityId", "changedAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "FieldChange_portalId_entityType_entityId_field_idx" ON "FieldChange"("portalId", "entityType", "entityId", "field");

-- CreateIndex
CREATE INDEX "FieldChange_portalId_entityType_entityId_changedById_idx" ON "FieldChange"("portalId", "entityType", "entityId", "changedById");

-- AddForeignKey
ALTER TABLE "TokenSet" ADD CONSTRAINT "TokenSet_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CapabilityProfile" ADD CONSTRAINT "CapabilityProfile_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RateBucket" ADD CONSTRAINT "RateBucket_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MethodOperating" ADD CONSTRAINT "MethodOperating_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EventInbox" ADD CONSTRAINT "EventInbox_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OfflineClaim" ADD CONSTRAINT "OfflineClaim_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PendingCall" ADD CONSTRAINT "PendingCall_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BindingState" ADD CONSTRAINT "BindingState_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MetricSample" ADD CONSTRAINT "MetricSample_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuthFailure" ADD CONSTRAINT "AuthFailure_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CrmSnapshot" ADD CONSTRAINT "CrmSnapshot_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FieldChange" ADD CONSTRAINT "FieldChange_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CrmFieldMeta" ADD CONSTRAINT "CrmFieldMeta_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserNameCache" ADD CONSTRAINT "UserNameCache_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BackfillRun" ADD CONSTRAINT "BackfillRun_portalId_fkey" FOREIGN KEY ("portalId") REFERENCES "Portal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

