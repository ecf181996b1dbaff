package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the Prometheus series of one App, on a registry of its own so
// that several Apps (tests) never collide.
type metrics struct {
	reg           *prometheus.Registry
	nodeHead      prometheus.Gauge
	indexedHead   prometheus.Gauge
	headLag       prometheus.Gauge
	blocks        prometheus.Counter
	txs           prometheus.Counter
	logs          prometheus.Counter
	failedTxs     prometheus.Counter
	reorgs        prometheus.Counter
	reorgDepth    prometheus.Histogram
	indexerErrors prometheus.Counter
	rpcRequests   *prometheus.CounterVec
	rpcErrors     *prometheus.CounterVec
	rpcRetries    *prometheus.CounterVec
	rpcLatency    *prometheus.HistogramVec
	changes       *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg:         prometheus.NewRegistry(),
		nodeHead:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "blocktorch_node_head_block", Help: "Newest block number the node reported."}),
		indexedHead: prometheus.NewGauge(prometheus.GaugeOpts{Name: "blocktorch_indexed_head_block", Help: "Newest block number stored."}),
		headLag:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "blocktorch_head_lag_blocks", Help: "Blocks between the node's head and the stored head."}),
		blocks:      prometheus.NewCounter(prometheus.CounterOpts{Name: "blocktorch_blocks_indexed_total", Help: "Blocks stored (re-indexed blocks after a reorg count again)."}),
		txs:         prometheus.NewCounter(prometheus.CounterOpts{Name: "blocktorch_txs_indexed_total", Help: "Transactions stored."}),
		logs:        prometheus.NewCounter(prometheus.CounterOpts{Name: "blocktorch_logs_indexed_total", Help: "Event logs stored."}),
		failedTxs:   prometheus.NewCounter(prometheus.CounterOpts{Name: "blocktorch_failed_txs_indexed_total", Help: "Failed transactions stored."}),
		reorgs:      prometheus.NewCounter(prometheus.CounterOpts{Name: "blocktorch_reorgs_total", Help: "Reorgs handled by rolling back orphaned blocks."}),
		reorgDepth: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "blocktorch_reorg_depth_blocks", Help: "Depth of handled reorgs.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}),
		indexerErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "blocktorch_indexer_errors_total", Help: "Indexer rounds that failed and were retried."}),
		rpcRequests:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blocktorch_rpc_requests_total", Help: "JSON-RPC round trips to the node (a batch counts once)."}, []string{"method"}),
		rpcErrors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blocktorch_rpc_errors_total", Help: "JSON-RPC round trips that failed."}, []string{"method"}),
		rpcRetries:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blocktorch_rpc_retries_total", Help: "JSON-RPC retries after an error."}, []string{"method"}),
		rpcLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "blocktorch_rpc_duration_seconds", Help: "JSON-RPC round trip time.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}, []string{"method"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blocktorch_state_changes_total",
			Help: "Change notices of shared state this node reloaded (from any node, itself included)."}, []string{"kind"}),
	}
	m.reg.MustRegister(m.nodeHead, m.indexedHead, m.headLag, m.blocks, m.txs, m.logs, m.failedTxs, m.reorgs, m.reorgDepth,
		m.indexerErrors, m.rpcRequests, m.rpcErrors, m.rpcRetries, m.rpcLatency, m.changes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
