package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenantops/tenant-operator/app/internal/mail"
)

// signups counts signups by outcome: requested (a link mailed), verified (a Tenant created),
// invalid, limited (a rate limit refused it), taken, abandoned (its link expired unused).
var signups = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "console_signups_total",
	Help: "Signups by outcome: requested, verified, invalid, limited, taken, abandoned.",
}, []string{"outcome"})

//go:embed templates/*.html static/*
var files embed.FS

var pages = template.Must(template.ParseFS(files, "templates/*.html"))

// Config is how a console runs.
type Config struct {
	// PublicURL is where customers reach the console (the verification link's base).
	PublicURL string
	// BaseDomain is the domain stores are served under (<subdomain>.<BaseDomain>), as shown.
	BaseDomain string
	// MailFrom sends the verification mail (an SES-verified identity).
	MailFrom string
	// VerifyFor is how long a verification link works (24 h when zero); a signup not verified
	// by then is abandoned.
	VerifyFor time.Duration
	// PerClient and PerDomain are the signups allowed per client address and per e-mail
	// domain in an hour (5 and 20 when zero).
	PerClient, PerDomain int
	// TrustForwardedFor takes the client address from X-Forwarded-For's last hop (behind the
	// Ingress); otherwise from the connection.
	TrustForwardedFor bool
}

// Server is the console's HTTP handler.
type Server struct {
	cfg     Config
	tenants Tenants
	mailer  mail.Mailer
	tokens  Tokens
	events  *Emitter
	log     *slog.Logger
	mux     *http.ServeMux

	perClient, perDomain *Limiter
	now                  func() time.Time

	mu      sync.Mutex
	pending map[string]pendingSignup // by subdomain: sent a link, not verified yet
}

type pendingSignup struct {
	signup  Signup
	expires time.Time
}

// New is a console serving cfg, creating Tenants in tenants, mailing through mailer, signing with
// tokens and announcing to events.
func New(cfg Config, tenants Tenants, mailer mail.Mailer, tokens Tokens, events *Emitter, log *slog.Logger) *Server {
	if cfg.VerifyFor <= 0 {
		cfg.VerifyFor = 24 * time.Hour
	}
	if cfg.PerClient <= 0 {
		cfg.PerClient = 5
	}
	if cfg.PerDomain <= 0 {
		cfg.PerDomain = 20
	}
	s := &Server{cfg: cfg, tenants: tenants, mailer: mailer, tokens: tokens, events: events, log: log, mux: http.NewServeMux(),
		now: tokens.now, pending: map[string]pendingSignup{}}
	s.perClient = &Limiter{Max: cfg.PerClient, Per: time.Hour, Now: s.now}
	s.perDomain = &Limiter{Max: cfg.PerDomain, Per: time.Hour, Now: s.now}
	s.mux.Handle("GET /static/", staticMux)
	s.mux.Handle("GET /metrics", staticMux)
	s.mux.Handle("GET /healthz", staticMux)
	s.mux.HandleFunc("GET /{$}", s.signupPage)
	s.mux.HandleFunc("GET /api/subdomains/{name}", s.availability)
	s.mux.HandleFunc("POST /api/signups", s.signup)
	s.mux.HandleFunc("GET /verify", s.verifyPage)
	s.mux.HandleFunc("POST /verify", s.verify)
	s.mux.HandleFunc("GET /progress", s.progressPage)
	s.mux.HandleFunc("GET /api/progress", s.progress)
	return s
}

// ServeHTTP sets the strict headers on every answer, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	strictHeaders(w)
	s.mux.ServeHTTP(w, r)
}

// staticMux serves what both views share: the pages' files, health and metrics.
var staticMux = func() *http.ServeMux {
	m := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.Handle("GET /metrics", promhttp.Handler())
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	return m
}()

// strictHeaders are the headers of every answer of the console: scripts and styles from its own
// origin only, no framing, no Referer (tokens travel in URLs), HTTPS remembered, nothing cached.
func strictHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	h.Set("Cache-Control", "no-store")
}

// Sweep announces the signups whose link expired unverified (io.tenantops.signup.abandoned)
// and forgets them; Run calls it every minute.
func (s *Server) Sweep() {
	now := s.now()
	s.mu.Lock()
	var gone []Signup
	for sub, p := range s.pending {
		if !now.Before(p.expires) {
			gone = append(gone, p.signup)
			delete(s.pending, sub)
		}
	}
	s.mu.Unlock()
	for _, sg := range gone {
		signups.WithLabelValues("abandoned").Inc()
		s.events.Emit(NewEvent(EventAbandoned, sg, "the verification link expired unused", now))
	}
}

// Run sweeps abandoned signups until ctx ends.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// csrfCookie holds the double-submit token: a page's forms and fetches send it back in a field
// or header, which another site cannot read to forge.
const csrfCookie = "console_csrf"

func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	// Secure: browsers keep it over https, and over http on localhost (a secure context).
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: true})
	return v
}

// csrfOK says whether a state-changing request carries the cookie's token back (header or form
// field) and, when it names one, comes from this origin.
func (s *Server) csrfOK(r *http.Request, sent string) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return false
		}
	}
	c, err := r.Cookie(csrfCookie)
	return err == nil && sent != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) == 1
}

func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TrustForwardedFor {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			return strings.TrimSpace(hops[len(hops)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) {
	regions, err := s.tenants.Regions(r.Context())
	if err != nil {
		s.log.Error("listing regions", "error", err)
		http.Error(w, "the signup is unavailable for a moment; try again shortly", http.StatusServiceUnavailable)
		return
	}
	s.render(w, "signup.html", map[string]any{"CSRF": s.csrfToken(w, r), "Regions": regions, "BaseDomain": s.cfg.BaseDomain})
}

func (s *Server) render(w http.ResponseWriter, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, page, data); err != nil {
		s.log.Error("rendering", "page", page, "error", err)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// availability answers whether a subdomain can be had, with why not.
func (s *Server) availability(w http.ResponseWriter, r *http.Request) {
	sub := strings.ToLower(r.PathValue("name"))
	if msg := CheckSubdomain(sub); msg != "" {
		writeJSON(w, http.StatusOK, map[string]any{"subdomain": sub, "available": false, "reason": msg})
		return
	}
	t, err := s.tenants.Get(r.Context(), sub)
	taken := t != nil
	if err != nil {
		s.log.Error("checking a subdomain", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "cannot check now; try again shortly"})
		return
	}
	resp := map[string]any{"subdomain": sub, "available": !taken}
	if taken {
		resp["reason"] = "someone has it already"
	}
	writeJSON(w, http.StatusOK, resp)
}

// signup takes a signup: checked, limited, then a verification link mailed. Nothing is created
// before the link is followed.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	if !s.csrfOK(r, r.Header.Get("X-CSRF-Token")) {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "reload the page and try again (the form's security token is missing or stale)"})
		return
	}
	in, err := decodeSignup(http.MaxBytesReader(w, r.Body, 4<<10))
	var fe FieldErrors
	switch {
	case errors.As(err, &fe):
		signups.WithLabelValues("invalid").Inc()
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "some answers need a change", "fields": fe})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "the request is not a signup: " + err.Error()})
		return
	}
	in = in.Normalize()
	regions, err := s.tenants.Regions(r.Context())
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "cannot sign up now; try again shortly"})
		return
	}
	if err := in.Validate(regions); errors.As(err, &fe) {
		signups.WithLabelValues("invalid").Inc()
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "some answers need a change", "fields": fe})
		return
	}
	if !s.perClient.Allow(s.clientAddr(r)) || !s.perDomain.Allow(in.EmailDomain()) {
		signups.WithLabelValues("limited").Inc()
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "too many signups from here or for this e-mail domain; try again in an hour"})
		return
	}
	if t, err := s.tenants.Get(r.Context(), in.Subdomain); err != nil || t != nil {
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "cannot sign up now; try again shortly"})
			return
		}
		signups.WithLabelValues("taken").Inc()
		writeJSON(w, http.StatusConflict, map[string]any{"error": "some answers need a change", "fields": FieldErrors{"subdomain": "someone has it already"}})
		return
	}
	token, err := s.tokens.Sign(in, PurposeVerify, s.cfg.VerifyFor)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "cannot sign up now"})
		return
	}
	link := strings.TrimSuffix(s.cfg.PublicURL, "/") + "/verify?token=" + url.QueryEscape(token)
	msg := mail.Message{From: s.cfg.MailFrom, To: in.AdminEmail, Subject: "Confirm your store " + in.Subdomain,
		Text: fmt.Sprintf("Hello,\n\nsomeone (we hope you) asked for the store %q at %s for %s.\nConfirm it here within %s:\n\n%s\n\nIf it was not you, ignore this mail: nothing is created.\n",
			in.Company, in.Subdomain, in.AdminEmail, s.cfg.VerifyFor, link)}
	if err := s.mailer.Send(r.Context(), msg); err != nil {
		s.log.Error("sending the verification mail", "subdomain", in.Subdomain, "error", err)
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "we could not send the confirmation mail; check the address, or try again shortly"})
		return
	}
	s.mu.Lock()
	s.pending[in.Subdomain] = pendingSignup{signup: in, expires: s.now().Add(s.cfg.VerifyFor)}
	s.mu.Unlock()
	signups.WithLabelValues("requested").Inc()
	s.events.Emit(NewEvent(EventRequested, in, "verification mail sent", s.now()))
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "check your mail", "email": in.AdminEmail})
}

// verifyPage shows what a link confirms and asks for one click: a mail program that follows
// links to scan them creates nothing.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	c, err := s.tokens.Verify(token, PurposeVerify)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, "message.html", map[string]any{"Title": "This link does not work", "Message": err.Error()})
		return
	}
	s.render(w, "verify.html", map[string]any{"CSRF": s.csrfToken(w, r), "Token": token, "Signup": c.Signup})
}

// verify creates the Tenant of a verified signup, then sends the customer to its progress.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !s.csrfOK(r, r.PostForm.Get("csrf")) {
		w.WriteHeader(http.StatusForbidden)
		s.render(w, "message.html", map[string]any{"Title": "Please try again", "Message": "Open the link from the mail again (the page's security token was missing or stale)."})
		return
	}
	c, err := s.tokens.Verify(r.PostForm.Get("token"), PurposeVerify)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, "message.html", map[string]any{"Title": "This link does not work", "Message": err.Error()})
		return
	}
	sg := c.Signup
	progress, err := s.tokens.Sign(sg, PurposeProgress, 24*time.Hour)
	if err != nil {
		http.Error(w, "cannot follow the progress", http.StatusInternalServerError)
		return
	}
	switch err := s.tenants.Create(r.Context(), sg.Tenant()); {
	case errors.Is(err, ErrTaken):
		// Created already: by this very link (used twice: refused, nothing made again, the
		// store's progress offered), or someone else was faster.
		w.WriteHeader(http.StatusConflict)
		if s.ownedBy(r.Context(), sg) {
			s.render(w, "message.html", map[string]any{"Title": "This link was used already", "Message": "Your store " + sg.Subdomain + " exists; nothing was made again.",
				"Link": "/progress?token=" + url.QueryEscape(progress), "LinkText": "Follow your store"})
			return
		}
		s.render(w, "message.html", map[string]any{"Title": "That address was taken", "Message": sg.Subdomain + " was taken meanwhile: sign up again with another."})
		return
	case err != nil:
		s.log.Error("creating the tenant", "subdomain", sg.Subdomain, "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		s.render(w, "message.html", map[string]any{"Title": "Please try again", "Message": "We could not create your store just now. The link still works."})
		return
	default:
		s.mu.Lock()
		delete(s.pending, sg.Subdomain)
		s.mu.Unlock()
		signups.WithLabelValues("verified").Inc()
		s.events.Emit(NewEvent(EventVerified, sg, "e-mail verified; tenant created", s.now()))
	}
	http.Redirect(w, r, "/progress?token="+url.QueryEscape(progress), http.StatusSeeOther)
}

// ownedBy says whether the existing Tenant of sg's subdomain is sg's: made by the console for
// the same e-mail.
func (s *Server) ownedBy(ctx context.Context, sg Signup) bool {
	t, err := s.tenants.Get(ctx, sg.Subdomain)
	return err == nil && t != nil && t.Spec.AdminEmail == sg.AdminEmail && t.Labels[LabelSignup] == "console"
}

func (s *Server) progressPage(w http.ResponseWriter, r *http.Request) {
	c, err := s.tokens.Verify(r.URL.Query().Get("token"), PurposeProgress)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, "message.html", map[string]any{"Title": "This link does not work", "Message": err.Error()})
		return
	}
	s.render(w, "progress.html", map[string]any{"Signup": c.Signup})
}

// progress streams the Tenant's onboarding as server-sent events, from a watch: one event per
// visible change, until it is ready or failed, or the client goes.
func (s *Server) progress(w http.ResponseWriter, r *http.Request) {
	c, err := s.tokens.Verify(r.URL.Query().Get("token"), PurposeProgress)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ch, err := s.tenants.Watch(ctx, c.Signup.Subdomain)
	if err != nil {
		s.log.Error("following a tenant", "subdomain", c.Signup.Subdomain, "error", err)
		http.Error(w, "cannot follow the progress now", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var last string
	keepalive := time.NewTicker(20 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keepalive.C:
			_, _ = fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
		case t, ok := <-ch:
			if !ok {
				return // the watch ended; the page's EventSource reconnects
			}
			v := Progress(t)
			body, _ := json.Marshal(v)
			if string(body) == last {
				continue
			}
			last = string(body)
			_, _ = fmt.Fprintf(w, "event: progress\ndata: %s\n\n", body)
			flusher.Flush()
			if v.Ready || v.Failed {
				return
			}
		}
	}
}
