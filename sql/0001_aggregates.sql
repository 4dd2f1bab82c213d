-- Per-cell, per-minute and per-user aggregates of the input topics.
--
-- Exactly-once without transactions: every row of the count-and-sum tables
-- carries the Kafka partition and the last offset of the sealed chunk it
-- came from (src_partition, src_offset). One INSERT writes a chunk's rows
-- together, so max(src_offset) per partition is the table's own watermark:
-- after a crash the engine reads it back and skips what the table already
-- holds, and a replayed batch cannot count twice. Queries sum over rows.

CREATE TABLE IF NOT EXISTS ping_cell_minute (
    cell UInt64,
    minute DateTime,
    src_partition UInt16,
    src_offset UInt64,
    pings UInt64,
    available_pings UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (cell, minute, src_partition, src_offset);

-- Distinct users and available helpers per cell and minute. Rows go into a
-- Null table and the view keeps only uniqExact states: a set absorbs a
-- replayed user, so this table needs no watermark. Read with
-- uniqExactMerge(users) and uniqExactIfMerge(helpers).
CREATE TABLE IF NOT EXISTS ping_users_in (
    cell UInt64,
    minute DateTime,
    user UInt64,
    available UInt8
) ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS ping_users
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (cell, minute)
AS SELECT
    cell,
    minute,
    uniqExactState(user) AS users,
    uniqExactIfState(user, available = 1) AS helpers
FROM ping_users_in
GROUP BY cell, minute;

CREATE TABLE IF NOT EXISTS need_cell_minute (
    cell UInt64,
    minute DateTime,
    category Enum8('errand' = 1, 'delivery' = 2, 'repair' = 3, 'borrow' = 4, 'ride' = 5, 'other' = 6),
    status Enum8('open' = 1, 'cancelled' = 2, 'fulfilled' = 3),
    src_partition UInt16,
    src_offset UInt64,
    needs UInt64,
    reward_total UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (cell, minute, category, status, src_partition, src_offset);

-- Transactions per cell of payment (cell 0: paid with no location given).
CREATE TABLE IF NOT EXISTS txn_cell_minute (
    cell UInt64,
    minute DateTime,
    kind Enum8('purchase' = 1, 'transfer' = 2, 'reward' = 3, 'withdrawal' = 4, 'topup' = 5, 'refund' = 6),
    src_partition UInt16,
    src_offset UInt64,
    txns UInt64,
    amount_total UInt64,
    amount_max UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (cell, minute, kind, src_partition, src_offset);

-- Spend per user and day, by the cell where it was paid: the "big spenders
-- nearby" board sums it over the cells around a place.
CREATE TABLE IF NOT EXISTS user_spend_day (
    day Date,
    user_id String,
    cell UInt64,
    src_partition UInt16,
    src_offset UInt64,
    purchases UInt64,
    purchase_total UInt64,
    refunds UInt64,
    refund_total UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, user_id, cell, src_partition, src_offset);
