// Package devbroker runs franz-go's kfake, a Kafka wire-protocol broker in
// Go, for development and tests on machines where Apache Kafka cannot run.
// The engine speaks only the Kafka protocol and never depends on it: point
// kafka.brokers at a real cluster and nothing else changes.
package devbroker

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is a running dev broker.
type Broker struct {
	c       *kfake.Cluster
	scratch string // the log's directory in memory, removed by Close
}

// Start listens on addr (host:port; port 0 picks a free one) and creates
// topics with the given partition count. With dataDir set the broker keeps
// its log on disk and reloads it on the next start, so a broker restart
// loses nothing. Without it the log lives in memory and goes with the
// broker (see memoryDir).
func Start(addr string, partitions int, topics []string, dataDir string) (*Broker, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("broker address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("broker address %q: port: %w", addr, err)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.SeedTopics(int32(partitions), topics...),
		kfake.DefaultNumPartitions(partitions),
		// kfake binds 127.0.0.1 itself; this listens on the host asked for.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, portStr))
		}),
	}
	b := &Broker{}
	if dataDir == "" {
		b.scratch = memoryDir()
		dataDir = b.scratch
	}
	if dataDir != "" {
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		b.removeScratch()
		return nil, fmt.Errorf("start dev broker on %s: %w", addr, err)
	}
	b.c = c
	return b, nil
}

// Addrs are the host:port pairs clients bootstrap from.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker and drops a log kept in memory.
func (b *Broker) Close() {
	b.c.Close()
	b.removeScratch()
}

func (b *Broker) removeScratch() {
	if b.scratch != "" {
		_ = os.RemoveAll(b.scratch)
	}
}
