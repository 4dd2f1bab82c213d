-- What the engine published and rejected. Each row has a deterministic id,
-- and ReplacingMergeTree collapses a row written again after a replay; read
-- with FINAL (or GROUP BY the id) where exact counts matter.

CREATE TABLE IF NOT EXISTS suggestions (
    need_id String,
    version UInt32,
    rank UInt8,
    requester_id String,
    helper_id String,
    score Float32,
    distance_m Float32,
    reason_distance Float32,
    reason_reliability Float32,
    reason_skill Float32,
    reason_credit Float32,
    reason_recency Float32,
    model String,
    event_ts UInt64,
    event_time DateTime
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (need_id, version, rank);

CREATE TABLE IF NOT EXISTS outcomes (
    need_id String,
    helper_id String,
    ts UInt64,
    event_time DateTime,
    outcome Enum8('accepted' = 1, 'declined' = 2, 'completed' = 3, 'no_show' = 4),
    rating UInt8
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (need_id, helper_id, ts, outcome);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id String,
    user_id String,
    ts UInt64,
    event_time DateTime,
    rule String,
    severity Enum8('low' = 1, 'medium' = 2, 'high' = 3),
    score Float32,
    txn_ids Array(String),
    evidence String,
    rules_version String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY alert_id;

-- Rejected input: one row per Kafka message, keyed by where it was read.
CREATE TABLE IF NOT EXISTS dead_letters (
    topic String,
    partition UInt16,
    offset UInt64,
    seen_at DateTime,
    error String,
    payload String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(seen_at)
ORDER BY (topic, partition, offset);
