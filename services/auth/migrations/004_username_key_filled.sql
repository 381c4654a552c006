-- 003 made username_key NOT NULL, which the release before it does not
-- know: its inserts of users (and its renames) would fail or leave the
-- key stale while both releases run during a rolling upgrade. A trigger
-- fills the key the way 003 folded stored names (lower() under the "C"
-- collation: A-Z only, as auth_username_key in domain.c) when a writer
-- gives none, or renames without giving a new one. This release always
-- gives it, so the trigger changes nothing of its writes.
CREATE FUNCTION users_fill_username_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.username_key IS NULL OR (TG_OP = 'UPDATE' AND
	    NEW.username IS DISTINCT FROM OLD.username AND
	    NEW.username_key IS NOT DISTINCT FROM OLD.username_key) THEN
		NEW.username_key := lower(NEW.username COLLATE "C");
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER users_username_key_fill BEFORE INSERT OR UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION users_fill_username_key();
