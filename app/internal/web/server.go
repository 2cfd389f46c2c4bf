// Package web serves tenants' customers: a JSON API and server-rendered pages over the catalog,
// each request routed to its tenant by the Host header. Health and metrics are served by a
// separate handler (Ops), for a port no load balancer routes customers to: what it shows spans
// every tenant.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenantops/tenant-operator/app/internal/assets"
	"github.com/tenantops/tenant-operator/app/internal/catalog"
	"github.com/tenantops/tenant-operator/app/internal/queue"
	"github.com/tenantops/tenant-operator/app/internal/service"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

// Limits on input.
const (
	maxBodyBytes   = 16 << 10
	maxPerPage     = 100
	maxCustomerLen = 128
	maxReviewLen   = 4000
)

// Registry is the app's tenants.
type Registry = tenant.Registry[*service.Tenant]

// Server is the app's HTTP handler.
type Server struct {
	Tenants *Registry
	Log     *slog.Logger
	// Queue takes work done after the response (rating events, mail).
	Queue   queue.Queue
	metrics *metrics
	mux     *http.ServeMux
	tenant  http.Handler
	ops     *http.ServeMux
}

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reg      *prometheus.Registry
}

// New builds the handler.
func New(tenants *Registry, log *slog.Logger, q queue.Queue) *Server {
	reg := prometheus.NewRegistry()
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "app_http_requests_total",
			Help: "Requests by tenant (\"unknown\" for hosts no tenant serves), route and status code."}, []string{"tenant", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "app_http_request_duration_seconds",
			Help: "Request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		reg: reg,
	}
	reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{Tenants: tenants, Log: log, Queue: q, metrics: m, mux: http.NewServeMux(), ops: http.NewServeMux()}
	s.ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.ops.HandleFunc("GET /readyz", s.readyz)
	s.ops.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.route("GET /api/items", s.apiItems)
	s.route("GET /api/items/{id}", s.apiItem)
	s.route("POST /api/items/{id}/ratings", s.apiRate)
	s.route("GET /api/recommendations", s.apiRecommendations)
	s.route("GET /{$}", s.pageHome)
	s.route("GET /items/{id}", s.pageItem)
	s.route("POST /items/{id}/ratings", s.pageRate)
	// The pages' own files, for tenants without a CDN: the same for every tenant, content-hashed.
	s.mux.HandleFunc("GET "+staticPath+"/{file}", s.static)
	// Unsafe methods from another origin (a page elsewhere posting through its visitor) are
	// refused with 403, by the browser's Sec-Fetch-Site or Origin header.
	s.tenant = http.NewCrossOriginProtection().Handler(s.mux)
	return s
}

// static serves the app's content-hashed files to a known tenant's host, without opening the
// tenant's database or cache: they are the same for every tenant.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	tenantID := "unknown"
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	if t, ok := s.Tenants.Lookup(r.Host); ok && !t.Config.Suspended {
		tenantID = t.Config.ID
		staticFiles.ServeHTTP(rec, r)
	} else {
		writeError(rec, http.StatusNotFound, "no tenant is served at this host")
	}
	route := staticPath + "/{file}"
	s.metrics.requests.WithLabelValues(tenantID, route, strconv.Itoa(rec.code)).Inc()
	s.metrics.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

var staticFiles = assets.Handler()

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }

// ServeHTTP serves the tenant port: tenant routes only.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.tenant.ServeHTTP(w, r) }

// Ops serves the operations port: /healthz, /readyz and /metrics, for the kubelet and Prometheus.
func (s *Server) Ops() http.Handler { return s.ops }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.Tenants.Loaded() {
		http.Error(w, "tenant registry not loaded", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// request is a request of a known tenant.
type request struct {
	*http.Request
	tenant *service.Tenant
	log    *slog.Logger
}

type handler func(w http.ResponseWriter, r request) (int, error)

// route registers a tenant-routed handler: the tenant comes from the Host header, an unknown
// host gets 404 and reaches no tenant's resources, and every request is counted and logged
// with its tenant.
func (s *Server) route(pattern string, h handler) {
	route := pattern[strings.Index(pattern, " ")+1:]
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code, tenantID := s.serveTenant(w, r, h)
		s.metrics.requests.WithLabelValues(tenantID, route, strconv.Itoa(code)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) serveTenant(w http.ResponseWriter, r *http.Request, h handler) (code int, tenantID string) {
	// A bug in one handler answers 500 for that request and leaves the process serving.
	defer func() {
		if p := recover(); p != nil {
			s.Log.Error("handler panicked", "panic", fmt.Sprint(p), "tenant", tenantID, "path", r.URL.Path)
			code = writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	t, ok := s.Tenants.Lookup(r.Host)
	if !ok || t.Config.Suspended {
		return writeError(w, http.StatusNotFound, "no tenant is served at this host"), "unknown"
	}
	tenantID = t.Config.ID
	log := s.Log.With("tenant", tenantID, "method", r.Method, "path", r.URL.Path)
	res, err := t.Resources()
	if err != nil {
		log.Error("opening the tenant's resources", "error", err)
		return writeError(w, http.StatusServiceUnavailable, "the tenant is not available right now"), tenantID
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	code, err = h(w, request{Request: r, tenant: res, log: log})
	if err != nil {
		var bad badRequest
		var unsupported unsupportedMediaType
		switch {
		case errors.As(err, &bad):
			code = writeError(w, http.StatusBadRequest, bad.Error())
		case errors.As(err, &unsupported):
			code = writeError(w, http.StatusUnsupportedMediaType, unsupported.Error())
		case errors.Is(err, catalog.ErrNotFound):
			code = writeError(w, http.StatusNotFound, "not found")
		case isTooLarge(err):
			code = writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
		default:
			log.Error("request failed", "error", err)
			code = writeError(w, http.StatusInternalServerError, "internal error")
		}
	}
	return code, tenantID
}

type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

func bad(msg string) error { return badRequest{msg} }

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func writeError(w http.ResponseWriter, code int, msg string) int {
	return writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
	return code
}

// itemID reads the {id} path value: a positive integer.
func itemID(r request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, bad("item id must be a positive integer")
	}
	return id, nil
}

// paging reads page (from 1) and per_page (1..100).
func paging(r request) (page, perPage int, err error) {
	page, perPage = 1, 20
	if v := r.URL.Query().Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 1_000_000 {
			return 0, 0, bad("page must be an integer from 1")
		}
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > maxPerPage {
			return 0, 0, bad("per_page must be an integer from 1 to 100")
		}
	}
	return page, perPage, nil
}

// listing is a page of the tenant's items, as ?page, ?per_page and ?category ask.
type listing struct {
	items                []catalogItem
	page, perPage, total int
	category             string
}

// itemWithRatings is the item the path names and its newest ratings, for the JSON and HTML pages.
func itemWithRatings(r request, ratings int) (catalogItem, []catalogRating, error) {
	id, err := itemID(r)
	if err != nil {
		return catalogItem{}, nil, err
	}
	item, err := r.tenant.Store.Item(r.Context(), id)
	if err != nil {
		return catalogItem{}, nil, err
	}
	rs, err := r.tenant.Store.Ratings(r.Context(), id, ratings)
	return item, rs, err
}

func listItems(r request) (listing, error) {
	var l listing
	var err error
	if l.page, l.perPage, err = paging(r); err != nil {
		return l, err
	}
	if l.category, err = category(r); err != nil {
		return l, err
	}
	l.items, l.total, err = r.tenant.Store.Items(r.Context(), l.category, l.page, l.perPage)
	if l.items == nil {
		l.items = []catalogItem{}
	}
	return l, err
}

func category(r request) (string, error) {
	c := r.URL.Query().Get("category")
	if len(c) > 64 {
		return "", bad("category is at most 64 characters")
	}
	return c, nil
}

// RatingInput is a customer's rating as the API takes it.
type RatingInput struct {
	Customer string `json:"customer"`
	Stars    int    `json:"stars"`
	Review   string `json:"review"`
}

func (in RatingInput) validate() error {
	for name, v := range map[string]string{"customer": in.Customer, "review": in.Review} {
		if !utf8.ValidString(v) {
			return bad(name + " must be UTF-8 text")
		}
	}
	switch {
	case strings.TrimSpace(in.Customer) == "" || len(in.Customer) > maxCustomerLen:
		return bad("customer is required, at most 128 characters")
	case in.Stars < 1 || in.Stars > 5:
		return bad("stars must be an integer from 1 to 5")
	case len(in.Review) > maxReviewLen:
		return bad("review is at most 4000 characters")
	}
	return nil
}

func (s *Server) rate(r request, id int64, in RatingInput) (catalog.Rating, error) {
	if err := in.validate(); err != nil {
		return catalog.Rating{}, err
	}
	rating, err := r.tenant.Store.Rate(r.Context(), id, strings.TrimSpace(in.Customer), in.Stars, in.Review)
	if err != nil {
		return rating, err
	}
	// Pages showing the item are rendered again: here at once, on the other replicas within
	// service.PageFreshFor (within service.PageMaxAge should the cache not take the news).
	if err := r.tenant.DataChanged(context.WithoutCancel(r.Context())); err != nil {
		r.log.Warn("telling the other replicas the catalog changed", "error", err)
	}
	ev, _ := json.Marshal(map[string]any{"type": "rating.created", "tenant": r.tenant.Config.ID, "itemId": id, "stars": in.Stars})
	if err := s.Queue.Send(context.WithoutCancel(r.Context()), ev); err != nil {
		r.log.Warn("queueing the rating event", "error", err)
	}
	return rating, nil
}
