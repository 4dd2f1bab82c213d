// Package integration holds the end-to-end tests of the engine on real
// parts: the engine binary as a separate process, the Kafka-protocol dev
// broker over TCP, kcat (a librdkafka client the engine's authors did not
// write) publishing the input, and a real ClickHouse server (started by
// `make test`; CLICKHOUSE_TCP_PORT picks its port). A missing server fails
// these tests; they never skip.
//
// The tests run one at a time, but for three long ones that run beside
// each other (t.Parallel, two at a time): the ClickHouse outage, which
// mostly waits (a 100 s stream at 2,000 events/s, a minute of it with
// its own ClickHouse server stopped), beside the broker restart and then
// the scale-out test, each on a broker of its own. One after another,
// these three took six of the eleven minutes of `make test`; side by
// side, about four and a half.
package integration
