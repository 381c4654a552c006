-- Sealed BMC credentials are bound to the BMC endpoint they are for: the
-- AEAD additional data is "server:<id>|<host>|<port>|<ipmi version>"
-- (binding 2). Rows sealed before, bound to "server:<id>" only, are marked
-- binding 1: the service re-seals them for their endpoint at start and on
-- first use (it holds the key; SQL does not). New code always writes 2;
-- the default stays 1 so that rows written by an older replica during a
-- rolling upgrade are read the old way.
ALTER TABLE servers ADD COLUMN credentials_binding smallint NOT NULL
    DEFAULT 1 CHECK (credentials_binding IN (1, 2));

-- Discovery: at most one running scan per user (created_by_id, the
-- user's id). A crash leaves rows 'running' until the next start marks
-- them interrupted. Scans running across the upgrade belong to nobody.
ALTER TABLE scans ADD COLUMN created_by_id bigint NOT NULL DEFAULT 0;
UPDATE scans SET created_by_id = -id WHERE status = 'running';
CREATE UNIQUE INDEX scans_one_running_per_user ON scans (created_by_id)
    WHERE status = 'running';
