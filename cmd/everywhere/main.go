// Command everywhere is the engine and its tools in one binary:
//
//	everywhere run       the engine
//	everywhere broker    a Kafka-protocol dev broker with every topic
//	everywhere migrate   apply the ClickHouse migrations
//	everywhere simulate  a synthetic city publishing the input topics
//	everywhere report    what the engine did, read back from ClickHouse and Kafka
//	everywhere version   the build version
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "everywhere:", err)
		os.Exit(1)
	}
}
