-- Users, refresh tokens and the audit log of the auth service.
CREATE TABLE users (
	id bigserial PRIMARY KEY,
	username text NOT NULL,
	display_name text NOT NULL DEFAULT '',
	email text NOT NULL DEFAULT '',
	role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
	active boolean NOT NULL DEFAULT true,
	password_hash text NOT NULL,
	password_changed_at timestamptz NOT NULL DEFAULT now(),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	last_login_at timestamptz
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- Keeps at least one active admin. Runs after each change to an active
-- admin, under a transaction-wide advisory lock so that two concurrent
-- demotions cannot both see the other admin as still active.
CREATE FUNCTION keep_one_admin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.role = 'admin' AND OLD.active AND (TG_OP = 'DELETE' OR
	    NEW.role <> 'admin' OR NOT NEW.active) THEN
		PERFORM pg_advisory_xact_lock(hashtext('osh-auth-last-admin'));
		IF NOT EXISTS (SELECT 1 FROM users
		    WHERE role = 'admin' AND active AND id <> OLD.id) THEN
			RAISE EXCEPTION 'the last active admin must stay'
			    USING ERRCODE = 'OS001';
		END IF;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER users_keep_one_admin AFTER UPDATE OR DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION keep_one_admin();

CREATE TABLE refresh_tokens (
	token_hash text PRIMARY KEY,
	family text NOT NULL,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	issued_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE audit_log (
	id bigserial PRIMARY KEY,
	stream_id text UNIQUE,
	ts timestamptz NOT NULL,
	service text NOT NULL,
	actor_id bigint,
	actor text NOT NULL DEFAULT '',
	action text NOT NULL,
	target text NOT NULL DEFAULT '',
	result text NOT NULL,
	client text NOT NULL DEFAULT '',
	request_id text NOT NULL DEFAULT '',
	details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_actor ON audit_log (actor, ts);
CREATE INDEX audit_log_action ON audit_log (action, ts);

-- JSON representations, kept in one place and used by every endpoint.
CREATE FUNCTION ts_json(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', u.id, 'username', u.username,
	    'display_name', u.display_name, 'email', u.email,
	    'role', u.role, 'active', u.active,
	    'created_at', ts_json(u.created_at),
	    'updated_at', ts_json(u.updated_at),
	    'last_login_at', ts_json(u.last_login_at),
	    'password_changed_at', ts_json(u.password_changed_at))
$$;

CREATE FUNCTION audit_json(a audit_log) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', a.id, 'ts', ts_json(a.ts), 'service', a.service,
	    'actor_id', a.actor_id, 'actor', a.actor, 'action', a.action,
	    'target', a.target, 'result', a.result, 'client', a.client,
	    'request_id', a.request_id, 'details', a.details)
$$;
