package aggregate

import "everywhere/pipeline/sink"

// The tables this package writes, with their insert columns (see sql/).
// The count tables name the column they are partitioned by, so that an
// insert tried again after a lost answer counts no row twice.
var (
	PingCellMinute  = sink.Table{Name: "ping_cell_minute", Columns: []string{"cell", "minute", "src_partition", "src_offset", "pings", "available_pings"}, PartTime: "minute"}
	PingUsersIn     = sink.Table{Name: "ping_users_in", Columns: []string{"cell", "minute", "user", "available"}}
	NeedCellMinute  = sink.Table{Name: "need_cell_minute", Columns: []string{"cell", "minute", "category", "status", "src_partition", "src_offset", "needs", "reward_total"}, PartTime: "minute"}
	TxnCellMinute   = sink.Table{Name: "txn_cell_minute", Columns: []string{"cell", "minute", "kind", "src_partition", "src_offset", "txns", "amount_total", "amount_max"}, PartTime: "minute"}
	UserSpendDay    = sink.Table{Name: "user_spend_day", Columns: []string{"day", "user_id", "cell", "src_partition", "src_offset", "purchases", "purchase_total", "refunds", "refund_total"}, PartTime: "day"}
	OutcomesTable   = sink.Table{Name: "outcomes", Columns: []string{"need_id", "helper_id", "ts", "event_time", "outcome", "rating"}}
	DeadLetterTable = sink.Table{Name: "dead_letters", Columns: []string{"topic", "partition", "offset", "seen_at", "error", "payload"}}
)

// Watermarked lists the tables that skip replayed input by watermark.
var Watermarked = []sink.Table{PingCellMinute, NeedCellMinute, TxnCellMinute, UserSpendDay}
