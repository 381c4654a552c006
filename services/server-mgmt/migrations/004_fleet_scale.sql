-- Fleet scale: the servers list at 10,000 (and 100,000) rows.
--
-- 1. Indexes for every filter and every sort of GET /api/servers. Each
--    sort is (key, id), so that keyset pages ("after this key and id")
--    are one index range; filters by equality carry id too, so that a
--    filtered page in id order is one range as well.
-- 2. q= searches one lower-case text of name, BMC address, serial and
--    labels (key=value), with a trigram index (pg_trgm) serving
--    LIKE '%text%'. pg_trgm ships with PostgreSQL (Debian's
--    postgresql-contrib); an administrator installs it (deploy/local/
--    stack.sh does, in schema "extensions"), since creating an extension
--    needs more than this service's role holds. When it is missing and
--    this role may create it, it is created here.
-- 3. Counts kept current by the writes: server_counts holds, per
--    dimension (total, status, power_state, cluster, manufacturer,
--    monitoring), how many servers have each value, changed by statement
--    triggers in the transaction that changes servers. GET
--    /api/servers/stats and the list's unfiltered totals read them: no
--    scan per request. Each statement's changes are summed first and
--    applied in (dim, key) order, so concurrent writers lock counter rows
--    in one order (no deadlock) and a write that changes no counted value
--    locks none.
--    The functions writers run (triggers, the search column) name their
--    schema (SET search_path FROM CURRENT): writers with another
--    search_path (an operator's psql) keep the counts right.
-- 4. servers_estimate: the planner's row estimate of a filter, for the
--    list's total when an exact count would not be cheap.

-- 5. Reading many servers fast: ts_json and bmc_address are declared as
--    volatile as their bodies are (to_char is stable; text || integer
--    too), so that PostgreSQL inlines them instead of calling a SQL
--    function per value; server_text is server_json as json (built as
--    text, keys in order, several times faster than jsonb) for the list
--    and single reads. The two must say the same (tests compare them).
CREATE OR REPLACE FUNCTION ts_json(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE OR REPLACE FUNCTION bmc_address(host text, port integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN strpos(host, ':') > 0 THEN '[' || host || ']'
	    ELSE host END || CASE WHEN port = 623 THEN '' ELSE ':' ||
	    port::text END
$$;

CREATE FUNCTION server_text(s servers) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT json_build_object(
	    'id', s.id, 'name', s.name,
	    'bmc_address', bmc_address(s.bmc_host, s.bmc_port),
	    'ipmi_version', s.ipmi_version, 'privilege', s.privilege,
	    'cipher_suite', s.cipher_suite,
	    'workarounds', to_json(s.workarounds),
	    'labels', s.labels, 'description', s.description,
	    'monitoring', s.monitoring, 'cluster', s.cluster,
	    'has_credentials', s.credentials IS NOT NULL,
	    'status', s.status, 'power_state', s.power_state,
	    'last_seen', ts_json(s.last_seen),
	    'last_polled', ts_json(s.last_polled),
	    'last_error', s.last_error,
	    'manufacturer', s.manufacturer, 'product', s.product,
	    'serial', s.serial, 'firmware', s.firmware,
	    'created_at', ts_json(s.created_at),
	    'updated_at', ts_json(s.updated_at))
$$;

DROP INDEX IF EXISTS servers_status;
CREATE INDEX servers_status_id ON servers (status, id);
CREATE INDEX servers_power_id ON servers (power_state, id);
CREATE INDEX servers_cluster_id ON servers (cluster, id);
CREATE INDEX servers_manufacturer_id ON servers (lower(manufacturer), id);
CREATE INDEX servers_monitoring_id ON servers (monitoring, id);
CREATE INDEX servers_name_id ON servers (lower(name), id);
CREATE INDEX servers_last_seen_id ON servers
    ((coalesce(last_seen, '-infinity'::timestamptz)), id);
CREATE INDEX servers_created_id ON servers (created_at, id);

-- What q= searches: one line per field, lower case.
CREATE FUNCTION server_search_text(name text, host text, port integer,
    serial text, labels jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
	SELECT lower(name || E'\n' || bmc_address(host, port) || E'\n' ||
	    serial || E'\n' || coalesce((SELECT string_agg(key || '=' ||
	    value, E'\n' ORDER BY key) FROM jsonb_each_text(labels)), ''))
$$;
ALTER TABLE servers ADD COLUMN search text GENERATED ALWAYS AS
    (server_search_text(name, bmc_host, bmc_port, serial, labels)) STORED;

DO $$
DECLARE
	s text;
BEGIN
	SELECT n.nspname INTO s FROM pg_extension e
	    JOIN pg_namespace n ON n.oid = e.extnamespace
	    WHERE e.extname = 'pg_trgm';
	IF s IS NULL THEN
		BEGIN
			CREATE EXTENSION pg_trgm;
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE EXCEPTION 'the PostgreSQL extension pg_trgm is '
			    'needed (package postgresql-contrib): as an '
			    'administrator, CREATE EXTENSION pg_trgm in a '
			    'schema this role may use';
		END;
		s := current_schema();
	END IF;
	EXECUTE format('CREATE INDEX servers_search ON servers USING gin '
	    '(search %I.gin_trgm_ops)', s);
	EXECUTE format('CREATE INDEX servers_name_trgm ON servers USING gin '
	    '(lower(name) %I.gin_trgm_ops)', s);
END
$$;

-- The label selector's requirements that indexes do not settle (see
-- store.c): a JSON array of {"k": key, "op": in|notin|exists|!exists,
-- "v": [values]}. A missing key matches notin and !exists, as in
-- Kubernetes.
CREATE FUNCTION labels_selected(l jsonb, sel jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT NOT EXISTS (SELECT 1 FROM jsonb_array_elements(sel) r
	    WHERE NOT CASE r->>'op'
	    WHEN 'in' THEN coalesce((r->'v') ? (l->>(r->>'k')), false)
	    WHEN 'notin' THEN NOT coalesce((r->'v') ? (l->>(r->>'k')), false)
	    WHEN 'exists' THEN l ? (r->>'k')
	    WHEN '!exists' THEN NOT l ? (r->>'k')
	    ELSE false END)
$$;

CREATE TABLE server_counts (
	dim text NOT NULL,
	key text NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (dim, key)
);

CREATE FUNCTION server_counts_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO server_counts AS c (dim, key, n)
		SELECT v.dim, v.key, count(*) FROM new_rows s
		    CROSS JOIN LATERAL (VALUES ('total', ''),
		    ('status', s.status), ('power_state', s.power_state),
		    ('cluster', coalesce(s.cluster, '')),
		    ('manufacturer', s.manufacturer),
		    ('monitoring', s.monitoring::text)) v (dim, key)
		    GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (dim, key) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO server_counts AS c (dim, key, n)
		SELECT v.dim, v.key, -count(*) FROM old_rows s
		    CROSS JOIN LATERAL (VALUES ('total', ''),
		    ('status', s.status), ('power_state', s.power_state),
		    ('cluster', coalesce(s.cluster, '')),
		    ('manufacturer', s.manufacturer),
		    ('monitoring', s.monitoring::text)) v (dim, key)
		    GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (dim, key) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSE
		INSERT INTO server_counts AS c (dim, key, n)
		SELECT v.dim, v.key, sum(s.d) FROM
		    (SELECT 1 AS d, status, power_state, cluster, manufacturer,
		    monitoring FROM new_rows UNION ALL SELECT -1, status,
		    power_state, cluster, manufacturer, monitoring
		    FROM old_rows) s
		    CROSS JOIN LATERAL (VALUES
		    ('status', s.status), ('power_state', s.power_state),
		    ('cluster', coalesce(s.cluster, '')),
		    ('manufacturer', s.manufacturer),
		    ('monitoring', s.monitoring::text)) v (dim, key)
		    GROUP BY 1, 2 HAVING sum(s.d) <> 0 ORDER BY 1, 2
		ON CONFLICT (dim, key) DO UPDATE SET n = c.n + EXCLUDED.n;
	END IF;
	RETURN NULL;
END
$$;

CREATE FUNCTION server_counts_reset() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	DELETE FROM server_counts;
	RETURN NULL;
END
$$;

CREATE TRIGGER servers_count_insert AFTER INSERT ON servers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION server_counts_apply();
CREATE TRIGGER servers_count_update AFTER UPDATE ON servers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION server_counts_apply();
CREATE TRIGGER servers_count_delete AFTER DELETE ON servers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION server_counts_apply();
CREATE TRIGGER servers_count_truncate AFTER TRUNCATE ON servers
    FOR EACH STATEMENT EXECUTE FUNCTION server_counts_reset();

-- The rows there are now (the triggers hold writers off until commit).
INSERT INTO server_counts (dim, key, n)
SELECT v.dim, v.key, count(*) FROM servers s
    CROSS JOIN LATERAL (VALUES ('total', ''),
    ('status', s.status), ('power_state', s.power_state),
    ('cluster', coalesce(s.cluster, '')),
    ('manufacturer', s.manufacturer),
    ('monitoring', s.monitoring::text)) v (dim, key)
    GROUP BY 1, 2;
-- 'total' is there even for an empty table.
INSERT INTO server_counts (dim, key, n) VALUES ('total', '', 0)
    ON CONFLICT DO NOTHING;

-- The planner's estimate of how many servers a filter (SQL text from
-- store.c's fixed fragments, never from a request: $1..$12 are the
-- filter's values) matches. Used when counting exactly would not be
-- cheap; the answer says the total is estimated.
CREATE FUNCTION servers_estimate(filter text, p1 text, p2 text, p3 text,
    p4 text, p5 text, p6 text, p7 text, p8 text, p9 text, p10 text,
    p11 text, p12 text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
	plan jsonb;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM servers s WHERE ' ||
	    filter INTO plan USING p1, p2, p3, p4, p5, p6, p7, p8, p9, p10,
	    p11, p12;
	RETURN (plan->0->'Plan'->>'Plan Rows')::bigint;
END
$$;
