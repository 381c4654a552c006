-- The counts kept by the writes (004) had one row per dimension and
-- value, and every write that moved a server from one value to another
-- added to it: a power job's results, stored 64 at a time, each waited
-- for the one before to commit, on the row lock of ('power_state',
-- 'off') (the most waited-for lock in the jobs bench). Each connection
-- now adds to a slot of its own (its backend pid modulo 16), and readers
-- sum a value's slots: at most 16 rows a value, and two writers meet on
-- one only when their pids share the slot.
ALTER TABLE server_counts ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE server_counts DROP CONSTRAINT server_counts_pkey;
ALTER TABLE server_counts ADD PRIMARY KEY (dim, key, slot);

CREATE OR REPLACE FUNCTION server_counts_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	my_slot smallint := pg_backend_pid() % 16;
BEGIN
	-- Rows in one order (dim, key) whatever the statement: two writers
	-- sharing a slot wait for each other, never in a cycle.
	IF TG_OP = 'INSERT' THEN
		INSERT INTO server_counts AS c (dim, key, slot, n)
		SELECT v.dim, v.key, my_slot, count(*) FROM new_rows s
		    CROSS JOIN LATERAL (VALUES ('total', ''),
		    ('status', s.status), ('power_state', s.power_state),
		    ('cluster', coalesce(s.cluster, '')),
		    ('manufacturer', s.manufacturer),
		    ('monitoring', s.monitoring::text)) v (dim, key)
		    GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (dim, key, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO server_counts AS c (dim, key, slot, n)
		SELECT v.dim, v.key, my_slot, -count(*) FROM old_rows s
		    CROSS JOIN LATERAL (VALUES ('total', ''),
		    ('status', s.status), ('power_state', s.power_state),
		    ('cluster', coalesce(s.cluster, '')),
		    ('manufacturer', s.manufacturer),
		    ('monitoring', s.monitoring::text)) v (dim, key)
		    GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (dim, key, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSE
		INSERT INTO server_counts AS c (dim, key, slot, n)
		SELECT v.dim, v.key, my_slot, sum(s.d) FROM
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
		ON CONFLICT (dim, key, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
	END IF;
	RETURN NULL;
END
$$;
