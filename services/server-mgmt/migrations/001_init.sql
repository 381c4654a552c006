-- Servers, their sealed BMC credentials and observed status; discovery
-- scans and what they found.
CREATE TABLE servers (
	id bigserial PRIMARY KEY,
	name text NOT NULL,
	bmc_host text NOT NULL,
	bmc_port integer NOT NULL DEFAULT 623 CHECK (bmc_port BETWEEN 1 AND 65535),
	ipmi_version text NOT NULL DEFAULT '2.0'
	    CHECK (ipmi_version IN ('2.0', '1.5')),
	privilege text NOT NULL DEFAULT 'admin'
	    CHECK (privilege IN ('user', 'operator', 'admin')),
	cipher_suite integer NOT NULL DEFAULT 3
	    CHECK (cipher_suite BETWEEN 0 AND 17),
	workarounds text[] NOT NULL DEFAULT '{}',
	labels jsonb NOT NULL DEFAULT '{}',
	description text NOT NULL DEFAULT '',
	monitoring boolean NOT NULL DEFAULT true,
	cluster text,
	credentials text, -- "kid:base64(nonce|ciphertext)", bound to "server:<id>"
	status text NOT NULL DEFAULT 'unknown'
	    CHECK (status IN ('unknown', 'online', 'offline', 'auth_failed',
	    'error')),
	power_state text NOT NULL DEFAULT 'unknown'
	    CHECK (power_state IN ('on', 'off', 'unknown')),
	last_seen timestamptz,
	last_polled timestamptz,
	last_error text,
	manufacturer text NOT NULL DEFAULT '',
	product text NOT NULL DEFAULT '',
	serial text NOT NULL DEFAULT '',
	firmware text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX servers_name_key ON servers (lower(name));
CREATE UNIQUE INDEX servers_bmc_key ON servers (lower(bmc_host), bmc_port);
CREATE INDEX servers_status ON servers (status);
CREATE INDEX servers_labels ON servers USING gin (labels);

CREATE FUNCTION ts_json(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION bmc_address(host text, port integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN strpos(host, ':') > 0 THEN '[' || host || ']'
	    ELSE host END || CASE WHEN port = 623 THEN '' ELSE ':' || port END
$$;

-- The one representation of a server; credentials never appear in it.
CREATE FUNCTION server_json(s servers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', s.id, 'name', s.name,
	    'bmc_address', bmc_address(s.bmc_host, s.bmc_port),
	    'ipmi_version', s.ipmi_version, 'privilege', s.privilege,
	    'cipher_suite', s.cipher_suite,
	    'workarounds', to_jsonb(s.workarounds),
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

CREATE TABLE scans (
	id bigserial PRIMARY KEY,
	spec jsonb NOT NULL, -- the request, without credentials
	status text NOT NULL DEFAULT 'running'
	    CHECK (status IN ('running', 'done', 'interrupted', 'failed')),
	total integer NOT NULL,
	probed integer NOT NULL DEFAULT 0,
	found integer NOT NULL DEFAULT 0,
	created_by text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz
);

CREATE TABLE scan_results (
	id bigserial PRIMARY KEY,
	scan_id bigint NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
	host text NOT NULL,
	port integer NOT NULL,
	ipmi15 boolean NOT NULL,
	ipmi20 boolean NOT NULL,
	auth_types text[] NOT NULL DEFAULT '{}',
	credentials_ok boolean NOT NULL DEFAULT false,
	credentials text, -- sealed, the pair that worked, bound to "scan:<id>"
	manufacturer_id integer,
	manufacturer text NOT NULL DEFAULT '',
	product text NOT NULL DEFAULT '',
	serial text NOT NULL DEFAULT '',
	firmware text NOT NULL DEFAULT '',
	error text,
	imported_server_id bigint,
	UNIQUE (scan_id, host, port)
);

CREATE FUNCTION scan_result_json(r scan_results) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', r.id, 'bmc_address', bmc_address(r.host, r.port),
	    'ipmi_versions', (SELECT coalesce(jsonb_agg(v), '[]') FROM
	        unnest(ARRAY[CASE WHEN r.ipmi15 THEN '1.5' END,
	        CASE WHEN r.ipmi20 THEN '2.0' END]) v WHERE v IS NOT NULL),
	    'auth_types', to_jsonb(r.auth_types),
	    'credentials_ok', r.credentials_ok,
	    'manufacturer_id', r.manufacturer_id,
	    'manufacturer', r.manufacturer, 'product', r.product,
	    'serial', r.serial, 'firmware', r.firmware,
	    'error', r.error, 'imported_server_id', r.imported_server_id)
$$;
