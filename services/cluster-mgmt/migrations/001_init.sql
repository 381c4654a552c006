-- Clusters, their explicit members, and the read model of server-mgmt's
-- servers that membership is resolved against. The read model is a copy
-- kept by cluster-mgmt (readmodel.c) from server-mgmt's internal API and
-- its server.* events; nothing here is read from server-mgmt's schema.
-- (Jobs and their tasks come in a later migration.)

-- The read model: what cluster-mgmt knows of each server. sync_gen is the
-- generation of the full rebuild (or the event) that last wrote the row:
-- a rebuild that has seen every page deletes the rows it did not see.
CREATE TABLE servers (
	id bigint PRIMARY KEY,
	name text NOT NULL,
	bmc_address text NOT NULL DEFAULT '',
	labels jsonb NOT NULL DEFAULT '{}',
	power_state text NOT NULL DEFAULT 'unknown',
	status text NOT NULL DEFAULT 'unknown',
	has_credentials boolean NOT NULL DEFAULT false,
	monitoring boolean NOT NULL DEFAULT true,
	sync_gen bigint NOT NULL DEFAULT 0,
	synced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX servers_labels ON servers USING gin (labels);

-- The current rebuild generation (one row).
CREATE TABLE sync_state (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	gen bigint NOT NULL DEFAULT 0,
	last_full_at timestamptz
);
INSERT INTO sync_state DEFAULT VALUES;

-- Servers deleted (server ids are never reused): a rebuild page fetched
-- before a delete and stored after it does not bring the server back.
CREATE TABLE tombstones (
	id bigint PRIMARY KEY,
	deleted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clusters (
	id bigserial PRIMARY KEY,
	name text NOT NULL,
	description text NOT NULL DEFAULT '',
	labels jsonb NOT NULL DEFAULT '{}',
	-- The selector in canonical text, and its terms as libcommon's
	-- osh_selector_json writes them ([{key, op, values}]); both NULL
	-- when membership is by explicit ids only.
	selector text,
	selector_terms jsonb,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((selector IS NULL) = (selector_terms IS NULL))
);
CREATE UNIQUE INDEX clusters_name_key ON clusters (lower(name));

-- Explicit members. Deleting a server (from the read model) drops it from
-- every cluster; deleting a cluster drops its rows here, never a server.
CREATE TABLE cluster_members (
	cluster_id bigint NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
	server_id bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
	added_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (cluster_id, server_id)
);
CREATE INDEX cluster_members_server ON cluster_members (server_id);

CREATE FUNCTION ts_json(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Whether labels satisfy every term (libcommon selector.h semantics: a
-- label that is not a string is present and equals no value).
CREATE FUNCTION selector_match(terms jsonb, labels jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(bool_and(CASE t->>'op'
	    WHEN 'eq' THEN coalesce(x.v = t->'values'->>0, false)
	    WHEN 'ne' THEN x.v IS DISTINCT FROM t->'values'->>0
	    WHEN 'in' THEN coalesce(t->'values' ? x.v, false)
	    WHEN 'notin' THEN NOT coalesce(t->'values' ? x.v, false)
	    WHEN 'exists' THEN labels ? (t->>'key')
	    WHEN 'notexists' THEN NOT labels ? (t->>'key')
	    ELSE false END), true)
	FROM jsonb_array_elements(terms) t,
	    LATERAL (SELECT CASE WHEN jsonb_typeof(labels->(t->>'key')) =
	        'string' THEN labels->>(t->>'key') END AS v) x
$$;

-- Whether server s belongs to cluster c: an explicit member, or matched by
-- its selector.
CREATE FUNCTION in_cluster(c clusters, s servers) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM cluster_members m
	    WHERE m.cluster_id = c.id AND m.server_id = s.id) OR
	    (c.selector_terms IS NOT NULL AND
	    selector_match(c.selector_terms, s.labels))
$$;

CREATE FUNCTION cluster_json(c clusters) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', c.id, 'name', c.name, 'description', c.description,
	    'labels', c.labels, 'selector', c.selector,
	    'explicit_count', (SELECT count(*) FROM cluster_members m
	        WHERE m.cluster_id = c.id),
	    'created_at', ts_json(c.created_at),
	    'updated_at', ts_json(c.updated_at))
$$;

-- A member as GET /api/clusters/{id}/servers shows it.
CREATE FUNCTION member_json(c clusters, s servers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', s.id, 'name', s.name, 'bmc_address', s.bmc_address,
	    'labels', s.labels, 'power_state', s.power_state,
	    'status', s.status, 'has_credentials', s.has_credentials,
	    'explicit', EXISTS (SELECT 1 FROM cluster_members m
	        WHERE m.cluster_id = c.id AND m.server_id = s.id),
	    'selected', c.selector_terms IS NOT NULL AND
	        selector_match(c.selector_terms, s.labels))
$$;

-- Counts of a cluster's servers by power state and by status.
CREATE FUNCTION cluster_summary(c clusters) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH m AS (SELECT s.power_state, s.status FROM servers s
	    WHERE in_cluster(c, s))
	SELECT jsonb_build_object(
	    'total', (SELECT count(*) FROM m),
	    'by_power_state', (SELECT coalesce(jsonb_object_agg(power_state,
	        n), '{}') FROM (SELECT power_state, count(*) n FROM m
	        GROUP BY 1) x),
	    'by_status', (SELECT coalesce(jsonb_object_agg(status, n), '{}')
	        FROM (SELECT status, count(*) n FROM m GROUP BY 1) x))
$$;
