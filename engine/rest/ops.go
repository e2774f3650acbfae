package rest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Operations endpoints and metrics (see docs/api.md, Operations endpoints, and
// docs/operations.md, Metrics).

// metrics are the handler's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	writes    *prometheus.CounterVec
}

func newMetrics(h *handler) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_http_requests_total",
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route", "method"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_decisions_total",
			Help: "Decisions answered by GET /tollgate/v1/decision, by grant.",
		}, []string{"grant"}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_writes_total",
			Help: "Successful writes (non-GET requests answered 2xx) by route pattern.",
		}, []string{"route"}),
	}
	revision := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tollgate_revision",
		Help: "The revision of the engine's current snapshot.",
	}, func() float64 { return float64(h.e.Snapshot().Revision()) })
	m.reg.MustRegister(m.requests, m.latency, m.decisions, m.writes, revision,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one answered request.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
	if method != http.MethodGet && status >= 200 && status < 300 {
		m.writes.WithLabelValues(route).Inc()
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type statusJSON struct {
	Status   string `json:"status"`
	Revision int64  `json:"revision"`
}

// healthz answers liveness: the process serves.
func (h *handler) healthz(w http.ResponseWriter, r *http.Request) (any, error) {
	return statusJSON{Status: "ok", Revision: h.e.Snapshot().Revision()}, nil
}

// readyz answers readiness: the engine has a snapshot to answer from, and an
// engine following a shared store reached it lately (see ReplicaLagBound). (An
// engine whose store failed refuses writes with 503 itself.)
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.e.Snapshot() == nil {
		return nil, statusError(http.StatusServiceUnavailable, "no snapshot yet")
	}
	if why := h.replicaProblem(); why != "" {
		return nil, statusError(http.StatusServiceUnavailable, "not ready: %s", why)
	}
	return statusJSON{Status: "ready", Revision: h.e.Snapshot().Revision()}, nil
}
