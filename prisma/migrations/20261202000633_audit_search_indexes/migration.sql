-- CreateIndex
CREATE INDEX "FieldChange_portalId_changedById_changedAt_id_idx" ON "FieldChange"("portalId", "changedById", "changedAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "FieldChange_portalId_field_changedAt_id_idx" ON "FieldChange"("portalId", "field", "changedAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "FieldChange_portalId_source_changedAt_id_idx" ON "FieldChange"("portalId", "source", "changedAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "FieldChange_portalId_entityType_changedAt_id_idx" ON "FieldChange"("portalId", "entityType", "changedAt" DESC, "id" DESC);

