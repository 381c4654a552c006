-- The maintenance window an alert's time falls in (for its server, or a
-- cluster it is in): at most one row. A set-returning SQL function, so
-- that the alert list's statement inlines it and plans it once; a scalar
-- SQL function holding a subquery (alert_extra) is called row by row,
-- and those calls were most of the list's cost.
CREATE FUNCTION alert_maintenance(a alerts) RETURNS SETOF jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', m.id, 'reason', m.reason,
	    'starts_at', ts(m.starts_at), 'ends_at', ts(m.ends_at))
	FROM maintenance m
	WHERE m.starts_at <= coalesce(a.ends_at, now()) AND
	    maintenance_end(m) > a.starts_at AND
	    (a.server_id = ANY (m.server_ids) OR
	     (m.cluster IS NOT NULL AND
	      strpos(a.clusters, ',' || m.cluster || ',') > 0))
	ORDER BY m.id DESC LIMIT 1
$$;

-- What the API adds to an alert (the detail, events): the same window.
CREATE OR REPLACE FUNCTION alert_extra(a alerts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('maintenance',
	    (SELECT w FROM alert_maintenance(a) w))
$$;
