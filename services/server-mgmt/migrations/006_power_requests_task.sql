-- The attempts of one task (job_id, task_id): before a cycle, reset or
-- diag goes to a BMC, server-mgmt looks for an earlier attempt of the
-- same task that ran or may have run (store_power_get), so that a retry
-- cluster-mgmt sent because it lost a result never runs it twice.
CREATE INDEX power_requests_task ON power_requests (job_id, task_id);
