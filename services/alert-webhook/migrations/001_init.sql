-- Alert history: every alert Alertmanager sent (webhook) or showed (poll
-- of /api/v2/alerts), one row per occurrence: a fingerprint (the alert's
-- label set) and the startsAt of one firing. Alertmanager sends the same
-- occurrence many times (repeats, HA peers); the unique key makes every
-- copy after the first a counted repeat. A fingerprint firing again after
-- it resolved is a new occurrence (a re-fire), counted in fingerprints.

CREATE TABLE alerts (
	id bigserial PRIMARY KEY,
	fingerprint text NOT NULL,
	starts_at timestamptz NOT NULL,
	-- When it resolved (Alertmanager's endsAt); NULL while not resolved.
	ends_at timestamptz,
	state text NOT NULL CHECK (state IN ('firing', 'resolved',
	    'silenced', 'inhibited')),
	-- The state it was first stored in, and by which source (webhook,
	-- poll): the start of its history.
	first_state text NOT NULL,
	first_source text NOT NULL,
	alertname text NOT NULL DEFAULT '',
	severity text NOT NULL DEFAULT '',
	server_id bigint,
	server_name text,
	-- The cluster label, and the clusters label (",a,b,") of targets
	-- from server-mgmt's service discovery.
	cluster text,
	clusters text,
	summary text,
	labels jsonb NOT NULL DEFAULT '{}',
	annotations jsonb NOT NULL DEFAULT '{}',
	generator_url text NOT NULL DEFAULT '',
	-- Webhook deliveries of this occurrence (a poll adds none): the
	-- copies beyond the first are repeats.
	notifications integer NOT NULL DEFAULT 0,
	first_seen_at timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	last_polled_at timestamptz,
	state_changed_at timestamptz NOT NULL DEFAULT now(),
	resolved_at timestamptz, -- when we learned it resolved
	-- Acknowledgement (set by the ack API that comes later; the state
	-- filter "acknowledged" reads it already).
	acknowledged_at timestamptz,
	acknowledged_by text,
	-- Lower-case text that q= searches: name, severity, server, summary,
	-- description, label values.
	search text NOT NULL DEFAULT '',
	UNIQUE (fingerprint, starts_at)
);

-- Lists read newest first (starts_at, id) in keyset pages: one index per
-- filter that lists use alone, each ending in the sort key.
CREATE INDEX alerts_by_start ON alerts (starts_at DESC, id DESC);
CREATE INDEX alerts_by_state ON alerts (state, starts_at DESC, id DESC);
CREATE INDEX alerts_by_server ON alerts (server_id, starts_at DESC, id DESC)
    WHERE server_id IS NOT NULL;
CREATE INDEX alerts_by_name ON alerts (alertname, starts_at DESC, id DESC);
CREATE INDEX alerts_by_severity ON alerts (severity, starts_at DESC, id DESC);
CREATE INDEX alerts_acked ON alerts (starts_at DESC, id DESC)
    WHERE acknowledged_at IS NOT NULL AND state <> 'resolved';
-- Retention deletes resolved alerts by age.
CREATE INDEX alerts_resolved_end ON alerts (ends_at) WHERE state = 'resolved';

-- Per fingerprint: how many occurrences (fires) it had, so that a flapping
-- alert shows.
CREATE TABLE fingerprints (
	fingerprint text PRIMARY KEY,
	fires integer NOT NULL DEFAULT 0,
	first_starts_at timestamptz NOT NULL,
	last_starts_at timestamptz NOT NULL
);

-- Changes of state after an alert was first stored (the first state is
-- the alert's own, at first_seen_at).
CREATE TABLE alert_history (
	id bigserial PRIMARY KEY,
	alert_id bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
	state text NOT NULL,
	source text NOT NULL, -- webhook, poll
	at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

-- SEL entries of the alert's server around its startsAt, fetched from
-- server-mgmt after the alert was stored (evidence.c). status: pending
-- (to fetch), fetching (claimed at claimed_at), done, failed.
CREATE TABLE alert_evidence (
	alert_id bigint PRIMARY KEY REFERENCES alerts ON DELETE CASCADE,
	server_id bigint NOT NULL,
	around timestamptz NOT NULL,
	status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending',
	    'fetching', 'done', 'failed')),
	attempts integer NOT NULL DEFAULT 0,
	claimed_at timestamptz,
	not_before timestamptz, -- a failed fetch waits until then
	fetched_at timestamptz,
	error text,
	entries jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX alert_evidence_todo ON alert_evidence (alert_id)
    WHERE status IN ('pending', 'fetching');

-- Totals of the receiver that outlive a process: Alertmanager's
-- truncatedAlerts (alerts left out of notifications by max_alerts).
CREATE TABLE receiver_stats (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	truncated_alerts bigint NOT NULL DEFAULT 0,
	truncated_notifications bigint NOT NULL DEFAULT 0
);
INSERT INTO receiver_stats DEFAULT VALUES;

-- The time format of every answer: RFC 3339 UTC, milliseconds.
CREATE FUNCTION ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- An alert as the API lists it; fires: its fingerprint's.
CREATE FUNCTION alert_json(a alerts, fires integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', a.id, 'fingerprint', a.fingerprint,
	    'alertname', a.alertname, 'severity', a.severity,
	    'state', a.state,
	    'acknowledged', a.acknowledged_at IS NOT NULL,
	    'server_id', a.server_id, 'server_name', a.server_name,
	    'cluster', a.cluster, 'summary', a.summary,
	    'labels', a.labels,
	    'starts_at', ts(a.starts_at), 'ends_at', ts(a.ends_at),
	    'first_seen_at', ts(a.first_seen_at),
	    'last_seen_at', ts(a.last_seen_at),
	    'repeats', greatest(a.notifications - 1, 0),
	    'fires', coalesce(fires, 1))
$$;
