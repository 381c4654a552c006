-- Facts about the sealed credentials that the service records for itself,
-- each sealed under the credential keys (SQL cannot seal: the service
-- writes them). One so far:
--
-- 'legacy_resealed': the start-up pass over credentials bound to server
-- ids only (binding 1, see 002) has run to its end. Such credentials open
-- for whatever endpoint their row names, so from then on they are never
-- opened again: a row found with binding 1 afterwards (one an older
-- replica wrote during a rolling upgrade, or one a database writer marked
-- so) is refused until its credentials are set again. This replaces 002's
-- "re-sealed on first use". The marker's additional data names the
-- database, so a marker copied from elsewhere, or one that does not open
-- under the keys, counts as absent.
CREATE TABLE credentials_state (
    name text PRIMARY KEY,
    sealed text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
