-- Acknowledgements and maintenance windows: both are Alertmanager
-- silences that this service made and keeps (the id Alertmanager
-- answered last: an edit may change it).

-- An ack silences exactly its alert (every label an equality matcher)
-- until the alert resolves or the end asked for ("until"); the service
-- extends the silence while the alert fires (silence_ends_at: the end
-- Alertmanager has now) and expires it when the alert resolves.
-- state: active; expired (the alert resolved, the silence expired);
-- ended (until passed); undone (DELETE .../ack).
CREATE TABLE acks (
	id bigserial PRIMARY KEY,
	alert_id bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
	silence_id text NOT NULL,
	comment text NOT NULL,
	created_by text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	until timestamptz,
	silence_ends_at timestamptz NOT NULL,
	state text NOT NULL DEFAULT 'active' CHECK (state IN ('active',
	    'expired', 'ended', 'undone')),
	ended_at timestamptz,
	ended_by text,
	-- Claimed by a replica's keeper (ackkeeper.c) at that time: the
	-- others leave it for a minute.
	claimed_at timestamptz
);
-- One active ack an alert: a second POST is a conflict.
CREATE UNIQUE INDEX acks_active ON acks (alert_id) WHERE state = 'active';
CREATE INDEX acks_alert ON acks (alert_id, id);
CREATE INDEX acks_silence ON acks (silence_id) WHERE state = 'active';

-- Who changed an alert's state by hand (an ack), and why.
ALTER TABLE alert_history ADD COLUMN by_user text;
ALTER TABLE alert_history ADD COLUMN comment text;

-- A maintenance window: servers (server_ids) or a cluster (the clusters
-- label of service discovery), from starts_at to ends_at, silenced in
-- Alertmanager by silence_id. Cancelled early: cancelled_at.
CREATE TABLE maintenance (
	id bigserial PRIMARY KEY,
	server_ids bigint[],
	cluster text,
	starts_at timestamptz NOT NULL,
	ends_at timestamptz NOT NULL,
	reason text NOT NULL,
	created_by text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	silence_id text NOT NULL,
	cancelled_at timestamptz,
	cancelled_by text,
	CHECK ((server_ids IS NULL) <> (cluster IS NULL)),
	CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_end ON maintenance (ends_at DESC, id DESC);
CREATE INDEX maintenance_silence ON maintenance (silence_id);

-- When a window really ends (a cancelled one at its cancellation).
CREATE FUNCTION maintenance_end(m maintenance) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT least(m.ends_at, coalesce(m.cancelled_at, 'infinity'))
$$;

CREATE FUNCTION maintenance_json(m maintenance) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', m.id,
	    'server_ids', to_jsonb(m.server_ids),
	    'cluster', m.cluster,
	    'starts_at', ts(m.starts_at), 'ends_at', ts(m.ends_at),
	    'reason', m.reason, 'created_by', m.created_by,
	    'created_at', ts(m.created_at), 'silence_id', m.silence_id,
	    'cancelled_at', ts(m.cancelled_at),
	    'cancelled_by', m.cancelled_by,
	    'state', CASE WHEN m.cancelled_at IS NOT NULL THEN 'cancelled'
		WHEN now() < m.starts_at THEN 'upcoming'
		WHEN now() < m.ends_at THEN 'active' ELSE 'ended' END)
$$;

CREATE FUNCTION ack_json(k acks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', k.id, 'alert_id', k.alert_id,
	    'silence_id', k.silence_id, 'comment', k.comment,
	    'created_by', k.created_by, 'created_at', ts(k.created_at),
	    'until', ts(k.until), 'silence_ends_at', ts(k.silence_ends_at),
	    'state', k.state, 'ended_at', ts(k.ended_at),
	    'ended_by', k.ended_by)
$$;

-- What the API adds to an alert: the maintenance window its time falls
-- in (for its server, or a cluster it is in), or null.
CREATE FUNCTION alert_extra(a alerts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('maintenance', (
	    SELECT jsonb_build_object('id', m.id, 'reason', m.reason,
		'starts_at', ts(m.starts_at), 'ends_at', ts(m.ends_at))
	    FROM maintenance m
	    WHERE m.starts_at <= coalesce(a.ends_at, now()) AND
		maintenance_end(m) > a.starts_at AND
		(a.server_id = ANY (m.server_ids) OR
		 (m.cluster IS NOT NULL AND
		  strpos(a.clusters, ',' || m.cluster || ',') > 0))
	    ORDER BY m.id DESC LIMIT 1))
$$;
