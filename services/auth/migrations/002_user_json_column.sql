-- Each user's JSON representation is kept ready in a column, so reading a
-- profile is an index lookup that returns text, not JSON built per read.
ALTER TABLE users ADD COLUMN json jsonb;

CREATE FUNCTION users_set_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.json := user_json(NEW);
	RETURN NEW;
END $$;

CREATE TRIGGER users_json BEFORE INSERT OR UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION users_set_json();

UPDATE users SET json = user_json(users);
ALTER TABLE users ALTER COLUMN json SET NOT NULL;
