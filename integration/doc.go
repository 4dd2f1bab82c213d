// Package integration holds the end-to-end tests of the engine on real
// parts: the engine binary as a separate process, the Kafka-protocol dev
// broker over TCP, kcat (a librdkafka client the engine's authors did not
// write) publishing the input, and a real ClickHouse server (started by
// `make test`; CLICKHOUSE_TCP_PORT picks its port). A missing server fails
// these tests; they never skip.
package integration
