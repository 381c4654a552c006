-- Power requests taken from the osh:power-requests stream (issue 9,
-- power_worker.c), one row per request_id. A row is written BEFORE
-- anything is sent to the BMC ('sending': it may have been sent) and
-- completed with the result ('done') BEFORE the stream entry is
-- acknowledged, so a redelivered request is never sent a second time: a
-- 'done' row's result is written again (duplicate), and a 'sending' row
-- (the worker died between recording and finishing) is sent again only
-- for actions that do the same when run twice (on, off, soft, status,
-- boot device, identify); cycle, reset and diag are answered
-- outcome_unknown instead. Rows older than OSH_POWER_RECORD_DAYS go.
CREATE TABLE power_requests (
    request_id text PRIMARY KEY,
    job_id bigint NOT NULL,
    task_id bigint NOT NULL,
    attempt bigint NOT NULL,
    server_id bigint NOT NULL,
    action text NOT NULL,
    requested_by text NOT NULL DEFAULT '',
    trace text NOT NULL DEFAULT '',
    stream_id text NOT NULL,
    consumer text NOT NULL,
    state text NOT NULL DEFAULT 'sending'
        CHECK (state IN ('sending', 'done')),
    result text CHECK (result IN ('ok', 'error')),
    error text NOT NULL DEFAULT '',
    message text NOT NULL DEFAULT '',
    power_state text NOT NULL DEFAULT 'unknown',
    received_at timestamptz NOT NULL DEFAULT now(),
    executed_at timestamptz
);

CREATE INDEX power_requests_received ON power_requests (received_at);
