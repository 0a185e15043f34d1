package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/service"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry, svc *service.Service) *metrics {
	db := svc.DB()
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skillvault_http_requests_total",
			Help: "HTTP requests by route pattern, method and status."}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "skillvault_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	gauge := func(name, help string, f func(database.PoolStats) float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(db.Stats()) }))
	}
	gauge("skillvault_db_pool_connections", "Open connections in the pool.", func(s database.PoolStats) float64 { return float64(s.Total) })
	gauge("skillvault_db_pool_idle_connections", "Idle connections in the pool.", func(s database.PoolStats) float64 { return float64(s.Idle) })
	gauge("skillvault_db_pool_acquired_connections", "Connections in use.", func(s database.PoolStats) float64 { return float64(s.Acquired) })
	gauge("skillvault_db_pool_max_connections", "Pool size limit.", func(s database.PoolStats) float64 { return float64(s.Max) })
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skillvault_db_pool_acquires_total", Help: "Connections acquired."},
		func() float64 { return float64(db.Stats().AcquireCount) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skillvault_db_pool_acquire_wait_seconds_total", Help: "Time spent waiting for a connection."},
		func() float64 { return db.Stats().AcquireWait.Seconds() }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skillvault_archive_builds_total", Help: "Skill archives built (the others were served from the kept copies)."},
		func() float64 { return float64(svc.ArchiveBuilds()) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skillvault_embeddings_stored_total", Help: "Skill vectors computed and stored."},
		func() float64 { return float64(svc.Counters().Embedded.Load()) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skillvault_embedding_failures_total", Help: "Skill embeddings that failed (each is retried with backoff)."},
		func() float64 { return float64(svc.Counters().Failed.Load()) }))
	// One figure over all tenants: a tenant label would name tenants on
	// /metrics and grow with them.
	for kind, f := range map[string]func() int{
		"review":    func() int { return svc.Backlog().Reviews },
		"embedding": func() int { return svc.Backlog().Embeddings },
	} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "skillvault_background_jobs",
			Help: "Background jobs queued or running, over all tenants.", ConstLabels: prometheus.Labels{"kind": kind}},
			func() float64 { return float64(f()) }))
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "skillvault_auth_cache_hits_total", Help: "API key authentications answered from the cache."},
		func() float64 { return float64(svc.AuthCacheHits()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "skillvault_auth_cache_active", Help: "1 while API key look-ups are cached (this process receives its own notifications)."},
		func() float64 {
			if svc.AuthCacheActive() {
				return 1
			}
			return 0
		}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "skillvault_vector_cache_bytes", Help: "Memory held by the per-tenant vector caches."},
		func() float64 { return float64(svc.CacheBytes()) }))
	return m
}

type recorder struct {
	http.ResponseWriter
	status int
	size   int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.size += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// instrument gives each request an id of the server's own (a client's
// X-Request-Id is never taken for it: the id goes into the audit trail),
// then counts and times it by the route pattern that served it (not the
// raw path, which would explode the label set).
func (m *metrics) instrument(next http.Handler, logf func(*http.Request, int, int64, time.Duration)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := api.NewRequestID()
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(api.WithRequestID(r.Context(), id))
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		// The mux records the pattern it routed by on the request itself.
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		d := time.Since(start)
		m.requests.WithLabelValues(pattern, r.Method, strconv.Itoa(rec.status)).Inc()
		m.latency.WithLabelValues(pattern, r.Method).Observe(d.Seconds())
		logf(r, rec.status, rec.size, d)
	})
}

// clientRequestID is the client's X-Request-Id, for the access log only:
// printable ASCII, at most 64 bytes, "" otherwise.
func clientRequestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if len(id) > 64 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return ""
		}
	}
	return id
}
