-- An access id (`x-tif-paasid`, `_api_access_key`, OAuth2 client id) names one institution:
-- the verifier looks institutions up by it, and a second holder would be authenticated as
-- whichever it found. The admin API refuses a taken one; the store refuses it too.
CREATE UNIQUE INDEX institutions_paas_id ON institutions (paas_id);

-- 3202 lists the refunds of a period by their cancellation time, whenever the settlement was
-- made. Only cancelled settlements have one, so the index holds only them.
CREATE INDEX settlements_institution_cancelled ON settlements (institution, cancelled_at)
    WHERE cancelled_at IS NOT NULL;
