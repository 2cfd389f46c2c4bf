package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// AdminConfig is how the platform team's view runs.
type AdminConfig struct {
	// PublicURL is where the platform team reaches it (the OIDC redirect's base).
	PublicURL string
	// Issuer, ClientID and ClientSecret are the OIDC provider and this client of it.
	Issuer, ClientID, ClientSecret string
	// Emails (exact) and Group (in the token's groups claim) are who may sign in; at least one.
	Emails []string
	Group  string
	// SessionFor is how long a sign-in lasts (8 h when zero).
	SessionFor time.Duration
	// Git, in git mode, takes the buttons' changes as commits to the Tenants' files; nil
	// patches the Tenants.
	Git *Git
}

// Admin is the platform team's view: cells with occupancy, cost and alarms; tenants by phase; a
// tenant's conditions, recovery point and events; suspend, resume and move as buttons that write
// the same spec fields a platform engineer would. Behind OIDC sign-in.
type Admin struct {
	cfg      AdminConfig
	kube     client.Client
	tokens   Tokens
	log      *slog.Logger
	mux      *http.ServeMux
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// Session and login cookies, and their tokens' purposes.
const (
	sessionCookie   = "console_admin"
	loginCookie     = "console_login"
	purposeSession  = "admin-session"
	purposeLogin    = "admin-login"
	adminCSRFCookie = "console_admin_csrf"
)

// NewAdmin discovers the OIDC provider and returns the view. kube reads cells, tenants and
// events and patches Tenants (the admin ServiceAccount's rights).
func NewAdmin(ctx context.Context, cfg AdminConfig, kube client.Client, tokens Tokens, log *slog.Logger) (*Admin, error) {
	if len(cfg.Emails) == 0 && cfg.Group == "" {
		return nil, fmt.Errorf("say who may sign in: admin e-mails or an admin group")
	}
	if cfg.SessionFor <= 0 {
		cfg.SessionFor = 8 * time.Hour
	}
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC provider %s: %w", cfg.Issuer, err)
	}
	a := &Admin{cfg: cfg, kube: kube, tokens: tokens, log: log, mux: http.NewServeMux(),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: strings.TrimSuffix(cfg.PublicURL, "/") + "/admin/callback", Scopes: []string{oidc.ScopeOpenID, "email", "profile", "groups"}},
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})}
	a.mux.HandleFunc("GET /admin/login", a.login)
	a.mux.HandleFunc("GET /admin/callback", a.callback)
	a.mux.HandleFunc("POST /admin/logout", a.signedIn(a.logout))
	a.mux.HandleFunc("GET /admin/{$}", a.signedIn(a.overview))
	a.mux.HandleFunc("GET /admin/tenants/{name}", a.signedIn(a.tenant))
	a.mux.HandleFunc("POST /admin/tenants/{name}/{action}", a.signedIn(a.act))
	return a, nil
}

// ServeHTTP serves the view (and the console's static files) with the console's strict headers.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	strictHeaders(w)
	if strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
		staticMux.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/" {
		http.Redirect(w, r, "/admin/", http.StatusFound)
		return
	}
	a.mux.ServeHTTP(w, r)
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *Admin) secureCookie(w http.ResponseWriter, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/admin", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(ttl.Seconds())})
}

func (a *Admin) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Path: "/admin", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// login sends the browser to the provider, with a state, a nonce and a PKCE verifier kept in a
// signed cookie for the callback to check.
func (a *Admin) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	token, err := a.tokens.SignUser(strings.Join([]string{state, nonce, verifier}, " "), purposeLogin, 10*time.Minute)
	if err != nil {
		http.Error(w, "cannot sign in now", http.StatusInternalServerError)
		return
	}
	// Lax: the provider's redirect back is a top-level GET from its site.
	a.secureCookie(w, loginCookie, token, 10*time.Minute)
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// idClaims are the ID token's claims the view reads.
type idClaims struct {
	Email         string   `json:"email"`
	EmailVerified *bool    `json:"email_verified"`
	Groups        []string `json:"groups"`
	Nonce         string   `json:"nonce"`
}

// allowed says whether the signed-in person may use the view.
func (a *Admin) allowed(c idClaims) bool {
	if c.EmailVerified != nil && !*c.EmailVerified {
		return false
	}
	return (c.Email != "" && slices.Contains(a.cfg.Emails, strings.ToLower(c.Email))) || (a.cfg.Group != "" && slices.Contains(c.Groups, a.cfg.Group))
}

func (a *Admin) callback(w http.ResponseWriter, r *http.Request) {
	lc, err := r.Cookie(loginCookie)
	if err != nil {
		http.Error(w, "the sign-in took too long or began elsewhere: sign in again", http.StatusBadRequest)
		return
	}
	claims, err := a.tokens.Verify(lc.Value, purposeLogin)
	parts := strings.Fields(claims.User)
	if err != nil || len(parts) != 3 || r.URL.Query().Get("state") != parts[0] {
		http.Error(w, "the sign-in does not match this browser's: sign in again", http.StatusBadRequest)
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		http.Error(w, "the provider refused the sign-in: "+e, http.StatusForbidden)
		return
	}
	tok, err := a.oauth.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		a.log.Warn("OIDC code exchange", "error", err)
		http.Error(w, "the sign-in failed: sign in again", http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err != nil {
		a.log.Warn("OIDC ID token", "error", err)
		http.Error(w, "the provider's answer did not verify: sign in again", http.StatusForbidden)
		return
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil || c.Nonce != parts[1] {
		http.Error(w, "the provider's answer is not for this sign-in", http.StatusForbidden)
		return
	}
	if !a.allowed(c) {
		a.log.Warn("admin sign-in refused", "email", c.Email)
		w.WriteHeader(http.StatusForbidden)
		a.render(w, "message.html", map[string]any{"Title": "Not for you, sorry", "Message": c.Email + " may not use the platform team's view."})
		return
	}
	session, err := a.tokens.SignUser(c.Email, purposeSession, a.cfg.SessionFor)
	if err != nil {
		http.Error(w, "cannot sign in now", http.StatusInternalServerError)
		return
	}
	a.clearCookie(w, loginCookie)
	a.secureCookie(w, sessionCookie, session, a.cfg.SessionFor)
	a.log.Info("admin signed in", "email", c.Email)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// signedIn lets through requests of a signed-in admin (its e-mail in the context), and sends
// the others to sign in.
func (a *Admin) signedIn(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err == nil {
			if claims, err := a.tokens.Verify(c.Value, purposeSession); err == nil && claims.User != "" {
				h(w, r, claims.User)
				return
			}
		}
		if r.Method != http.MethodGet {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "/admin/login", http.StatusFound)
	}
}

func (a *Admin) logout(w http.ResponseWriter, r *http.Request, _ string) {
	a.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *Admin) render(w http.ResponseWriter, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, page, data); err != nil {
		a.log.Error("rendering", "page", page, "error", err)
	}
}

// csrf is the admin pages' double-submit token (as the signup's, under /admin).
func (a *Admin) csrf(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(adminCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := randomToken()
	http.SetCookie(w, &http.Cookie{Name: adminCSRFCookie, Value: v, Path: "/admin", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return v
}

func (a *Admin) overview(w http.ResponseWriter, r *http.Request, user string) {
	var cells saasv1.RegionCellList
	var tenants saasv1.TenantList
	if err := a.kube.List(r.Context(), &cells); err != nil {
		http.Error(w, "cannot read the cells: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := a.kube.List(r.Context(), &tenants); err != nil {
		http.Error(w, "cannot read the tenants: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	o := NewOverview(cells.Items, tenants.Items)
	var occupancy, cost []Bar
	for _, c := range o.Cells {
		occ := fmt.Sprintf("%d of %d", c.Tenants, c.Max)
		if c.Max == 0 {
			occ = fmt.Sprintf("%d (no maximum)", c.Tenants)
		}
		occupancy = append(occupancy, Bar{Label: c.Name, Value: float64(c.Occupancy), Text: occ})
		cost = append(cost, Bar{Label: c.Name, Value: c.MonthlyUSD, Text: fmt.Sprintf("$%.0f a month, $%.2f a tenant", c.MonthlyUSD, c.PerTenantUSD)})
	}
	a.render(w, "admin.html", map[string]any{"User": user, "Overview": o, "CSRF": a.csrf(w, r),
		"Occupancy": BarChart("occupancy per cell", occupancy, 100), "Cost": BarChart("monthly cost per cell", cost, 0)})
}

// EventRow is a Kubernetes Event of a tenant, as the detail page lists it.
type EventRow struct {
	Time                  time.Time
	Type, Reason, Message string
}

func (a *Admin) tenant(w http.ResponseWriter, r *http.Request, user string) {
	t := &saasv1.Tenant{}
	if err := a.kube.Get(r.Context(), client.ObjectKey{Name: r.PathValue("name")}, t); err != nil {
		http.Error(w, "no such tenant: "+err.Error(), http.StatusNotFound)
		return
	}
	var cells saasv1.RegionCellList
	if err := a.kube.List(r.Context(), &cells); err != nil {
		http.Error(w, "cannot read the cells: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	var others []string
	for _, c := range cells.Items {
		if c.Spec.Region == t.Spec.Region && c.Name != t.Status.Cell {
			others = append(others, c.Name)
		}
	}
	sort.Strings(others)
	a.render(w, "admin_tenant.html", map[string]any{"User": user, "Tenant": t, "Events": a.events(r.Context(), t), "Cells": others, "CSRF": a.csrf(w, r)})
}

// events are the tenant's newest Events (the operator records them on the cluster-scoped
// Tenant, so they live in the default namespace).
func (a *Admin) events(ctx context.Context, t *saasv1.Tenant) []EventRow {
	var list corev1.EventList
	if err := a.kube.List(ctx, &list, client.MatchingFieldsSelector{Selector: fields.SelectorFromSet(fields.Set{
		"involvedObject.kind": "Tenant", "involvedObject.name": t.Name})}); err != nil {
		a.log.Warn("reading a tenant's events", "tenant", t.Name, "error", err)
		return nil
	}
	rows := make([]EventRow, 0, len(list.Items))
	for _, e := range list.Items {
		at := e.LastTimestamp.Time
		if at.IsZero() {
			at = e.EventTime.Time
		}
		rows = append(rows, EventRow{Time: at, Type: e.Type, Reason: e.Reason, Message: e.Message})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Time.After(rows[j].Time) })
	if len(rows) > 30 {
		rows = rows[:30]
	}
	return rows
}

// act writes what a button asks for into the Tenant's spec, the same field a platform
// engineer would edit: spec.suspended, or spec.cell for a move.
func (a *Admin) act(w http.ResponseWriter, r *http.Request, user string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "not a form", http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(adminCSRFCookie)
	if err != nil || r.PostForm.Get("csrf") == "" || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(c.Value)) != 1 {
		http.Error(w, "reload the page and try again (its security token is missing or stale)", http.StatusForbidden)
		return
	}
	name := r.PathValue("name")
	var spec map[string]any
	switch action := r.PathValue("action"); action {
	case "suspend":
		spec = map[string]any{"suspended": true}
	case "resume":
		spec = map[string]any{"suspended": false}
	case "move":
		cell := r.PostForm.Get("cell")
		if cell == "" {
			http.Error(w, "choose the cell to move to", http.StatusBadRequest)
			return
		}
		spec = map[string]any{"cell": cell}
	default:
		http.Error(w, "no such action: "+action, http.StatusNotFound)
		return
	}
	patch, _ := json.Marshal(map[string]any{"spec": spec})
	if a.cfg.Git != nil {
		if err := a.cfg.Git.Edit(r.Context(), name, spec, user); err != nil {
			http.Error(w, "the change was not committed: "+err.Error(), http.StatusUnprocessableEntity)
			return
		}
		a.log.Info("admin committed a change of a tenant", "admin", user, "tenant", name, "change", string(patch))
		http.Redirect(w, r, "/admin/tenants/"+url.PathEscape(name), http.StatusSeeOther)
		return
	}
	t := &saasv1.Tenant{}
	t.Name = name
	if err := a.kube.Patch(r.Context(), t, client.RawPatch(types.MergePatchType, patch)); err != nil {
		// Admission's answer names the field (a cell of another region, for one).
		http.Error(w, "the change was refused: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	a.log.Info("admin changed a tenant", "admin", user, "tenant", name, "change", string(patch))
	http.Redirect(w, r, "/admin/tenants/"+url.PathEscape(name), http.StatusSeeOther)
}
