// Package integration holds the end-to-end tests of the engine on real
// parts: the engine binary as a separate process, the Kafka-protocol dev
// broker over TCP, kcat (a librdkafka client the engine's authors did not
// write) publishing the input, and a real ClickHouse server (started by
// `make test`; CLICKHOUSE_TCP_PORT picks its port). A missing server fails
// these tests; they never skip.
//
// The tests run one at a time, but for five long ones that run beside
// each other (t.Parallel, two at a time): the crash test beside the
// ClickHouse outage, which mostly waits (a 100 s stream at 2,000
// events/s, a minute of it with its own ClickHouse server stopped), and
// after them the broker restart, the scale-out test and a rebalance
// during an outage (which mostly waits for writes retried a minute
// later), each on a broker of its own. With the crash test alone before the other three side by
// side, the package took 575 s under the race detector; with it among
// them, 510 s. `make soak` runs them one at a time.
package integration
