package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/app/internal/mail"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// A real kube-apiserver (envtest, with the project's CRDs and RBAC enforced) and SES played by
// moto. The console runs as the chart's ServiceAccount; the test plays only the operator's part
// (a Tenant's status) and the customer's.

var (
	env   *testenv.Env
	admin client.Client
	moto  *testsvc.Moto
)

const mailFrom = "signup@website.com"

func TestMain(m *testing.M) {
	var err error
	if env, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer func() { _ = env.Stop() }()
		scheme := runtime.NewScheme()
		err := clientgoscheme.AddToScheme(scheme)
		if err == nil {
			err = saasv1.AddToScheme(scheme)
		}
		if err == nil {
			admin, err = client.New(env.Config, client.Options{Scheme: scheme})
		}
		if err == nil {
			moto, err = testsvc.StartMoto()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer moto.Stop()
		return m.Run()
	}()
	os.Exit(code)
}

// asConsole is a Kubernetes client with exactly the rights the chart gives the console's
// ServiceAccount: the chart is rendered, its console RBAC applied, and the client is that user.
func asConsole(t *testing.T) client.WithWatch {
	t.Helper()
	return asChartComponent(t, map[string]any{"enabled": true}, "console")
}

// asChartComponent is a client with the rights the chart, rendered with these console values,
// gives the ServiceAccount of component (console, console-admin).
func asChartComponent(t *testing.T, values map[string]any, component string) client.WithWatch {
	t.Helper()
	ctx := context.Background()
	ns := "console-system"
	objs, err := testenv.RenderChart(map[string]any{"console": values}, "tenant-operator", ns)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := ""
	for _, o := range objs {
		if o.GetLabels()["app.kubernetes.io/component"] != component {
			continue
		}
		switch o.GetKind() {
		case "ServiceAccount":
			sa = o.GetName()
		case "ClusterRole", "ClusterRoleBinding":
		default:
			continue
		}
		if err := admin.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	if sa == "" {
		t.Fatalf("the chart renders no %s ServiceAccount", component)
	}
	user, err := env.AddUser(envtest.User{Name: "system:serviceaccount:" + ns + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewWithWatch(user.Config(), client.Options{Scheme: admin.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sesMailer sends through moto's SES, from a verified identity (SES refuses other senders).
func sesMailer(t *testing.T) mail.Mailer {
	t.Helper()
	c := sesv2.NewFromConfig(moto.Config(), func(o *sesv2.Options) { o.Region = "eu-west-1"; o.BaseEndpoint = aws.String(moto.URL) })
	if _, err := c.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(mailFrom)}); err != nil &&
		!strings.Contains(err.Error(), "AlreadyExists") {
		t.Fatal(err)
	}
	return mail.SES{Client: c}
}

// receiver takes the signup CloudEvents, checking each signature.
type receiver struct {
	key []byte
	mu  sync.Mutex
	got []notify.Event
	bad []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Header.Get(notify.HeaderSignature) != notify.Sign(r.key, body) {
		r.bad = append(r.bad, "bad signature")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev notify.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get(notify.HeaderDelivery) {
		r.bad = append(r.bad, fmt.Sprintf("event %s: %v", body, err))
	}
	r.got = append(r.got, ev)
	w.WriteHeader(http.StatusAccepted)
}

func (r *receiver) types(subject string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.got {
		if ev.Subject == subject {
			out = append(out, ev.Type)
		}
	}
	return out
}

// world is a console served over HTTP, with its events' receiver.
type world struct {
	srv    *Server
	url    string
	events *receiver
	now    *time.Time
}

func newWorld(t *testing.T, cfg Config) *world {
	t.Helper()
	rcv := &receiver{key: []byte("events-key")}
	rs := httptest.NewServer(rcv)
	t.Cleanup(rs.Close)
	now := time.Now()
	w := &world{events: rcv, now: &now}
	tokens := Tokens{Key: []byte("a token key of some length"), Now: func() time.Time { return *w.now }}
	emitter := &Emitter{URLs: []string{rs.URL}, Key: rcv.key, Backoff: 10 * time.Millisecond}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The URL is known once the server listens; the handler reads cfg at each request.
	hs := httptest.NewUnstartedServer(nil)
	hs.Start()
	t.Cleanup(hs.Close)
	cfg.PublicURL, cfg.MailFrom = hs.URL, mailFrom
	w.srv = New(cfg, Direct{Client: asConsole(t)}, sesMailer(t), tokens, emitter, log)
	hs.Config.Handler = w.srv
	w.url = hs.URL
	t.Cleanup(emitter.Wait)
	return w
}

// cell makes a RegionCell of region, so the console offers it.
func cell(t *testing.T, name, region string) {
	t.Helper()
	c, err := testenv.SampleCell()
	if err != nil {
		t.Fatal(err)
	}
	c.Name, c.Spec.Region, c.ResourceVersion = name, region, ""
	if err := admin.Create(context.Background(), c); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// browserless is a customer's HTTP client: cookies kept, redirects not followed.
func browserless(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfAttr = regexp.MustCompile(`data-csrf="([^"]+)"`)

// fetch GETs url with c and returns the status and the body.
func fetch(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func pageCSRF(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	code, body := fetch(t, c, base+"/")
	m := csrfAttr.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("signup page: %d %s", code, body)
	}
	return m[1]
}

func postSignup(t *testing.T, c *http.Client, base, csrf string, s Signup) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(s)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/signups", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

var linkRE = regexp.MustCompile(`https?://\S+/verify\?token=\S+`)

// mailedLink is the verification link in the newest mail SES took for to.
func mailedLink(t *testing.T, to string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sent, err := moto.SentMail(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := len(sent) - 1; i >= 0; i-- {
			if slices.Contains(sent[i].To, to) && sent[i].Source == mailFrom {
				if l := linkRE.FindString(sent[i].Body); l != "" {
					return l
				}
			}
		}
	}
	t.Fatalf("no verification mail to %s", to)
	return ""
}

// playReady is the operator's part: the Tenant onboarded, served at url.
func playReady(t *testing.T, name, url string) {
	t.Helper()
	ctx := context.Background()
	tn := &saasv1.Tenant{}
	if err := admin.Get(ctx, client.ObjectKey{Name: name}, tn); err != nil {
		t.Fatal(err)
	}
	tn.Status.Phase, tn.Status.URL = saasv1.PhaseReady, url
	for _, typ := range []string{saasv1.ConditionDatabaseReady, saasv1.ConditionCacheReady, saasv1.ConditionMigrationsComplete,
		saasv1.ConditionAppReady, saasv1.ConditionDNSReady, saasv1.ConditionReady} {
		tn.Status.Conditions = append(tn.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: "Played",
			LastTransitionTime: metav1.Now()})
	}
	if err := admin.Status().Update(ctx, tn); err != nil {
		t.Fatal(err)
	}
}

// From the form to the Tenant, over HTTP as a browser would (the browser test does it in
// Chromium): nothing is created before the mailed link is confirmed; then exactly the Tenant a
// platform engineer would write, the events signed, and the progress streamed from a watch.
func TestSignupFromMailToTenant(t *testing.T) {
	ctx := context.Background()
	cell(t, "euw1-console", "eu-west-1")
	w := newWorld(t, Config{BaseDomain: "website.com"})
	c := browserless(t)
	csrf := pageCSRF(t, c, w.url)

	s := Signup{Company: "Initech", Subdomain: "initech", Region: "eu-west-1", Tier: "dedicated", AdminEmail: "peter@initech.example"}
	if code, _ := postSignup(t, c, w.url, "", s); code != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", code)
	}
	if code, _ := postSignup(t, browserless(t), w.url, csrf, s); code != http.StatusForbidden {
		t.Errorf("the token without its cookie (another site's form): %d", code)
	}
	bad := s
	bad.Subdomain, bad.Region = "admin", "ap-south-1"
	if code, out := postSignup(t, c, w.url, csrf, bad); code != http.StatusUnprocessableEntity || fmt.Sprint(out["fields"]) == "" ||
		!strings.Contains(fmt.Sprint(out["fields"]), "kept for the platform") || !strings.Contains(fmt.Sprint(out["fields"]), "eu-west-1") {
		t.Errorf("bad answers: %d %v", code, out)
	}
	if code, out := postSignup(t, c, w.url, csrf, s); code != http.StatusAccepted {
		t.Fatalf("signup: %d %v", code, out)
	}
	// Nothing exists before the link is followed.
	if err := admin.Get(ctx, client.ObjectKey{Name: "initech"}, &saasv1.Tenant{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a Tenant before verification: %v", err)
	}
	link := mailedLink(t, s.AdminEmail)
	if !strings.HasPrefix(link, w.url+"/verify?token=") {
		t.Fatalf("link %s", link)
	}
	// Following the link (a mail scanner does) creates nothing: it asks for a click.
	if code, page := fetch(t, c, link); code != 200 || !strings.Contains(page, "Create my store") {
		t.Fatalf("verify page: %d %s", code, page)
	}
	if err := admin.Get(ctx, client.ObjectKey{Name: "initech"}, &saasv1.Tenant{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a Tenant from following the link alone: %v", err)
	}
	token := strings.TrimPrefix(link, w.url+"/verify?token=")
	confirm := func() *http.Response {
		t.Helper()
		tok, _ := url.QueryUnescape(token)
		resp, err := c.PostForm(w.url+"/verify", url.Values{"csrf": {csrf}, "token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := confirm()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/progress?token=") {
		t.Fatalf("confirm: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	progressURL := resp.Header.Get("Location")
	got := &saasv1.Tenant{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "initech"}, got); err != nil {
		t.Fatal(err)
	}
	want := s.Tenant()
	if got.Spec.DisplayName != want.Spec.DisplayName || got.Spec.Subdomain != "initech" || got.Spec.Region != "eu-west-1" || got.Spec.Tier != "dedicated" ||
		got.Spec.AdminEmail != s.AdminEmail || got.Labels[LabelSignup] != "console" {
		t.Errorf("the Tenant: %+v %v", got.Spec, got.Labels)
	}
	// The link used again (a second click, a replay): refused, nothing made again.
	if resp := confirm(); resp.StatusCode != http.StatusConflict {
		t.Errorf("the link used twice: %d", resp.StatusCode)
	}
	// The subdomain is taken now, for everyone.
	if code, out := postSignup(t, c, w.url, csrf, s); code != http.StatusConflict || !strings.Contains(fmt.Sprint(out["fields"]), "someone has it") {
		t.Errorf("a taken subdomain: %d %v", code, out)
	}
	aresp, err := c.Get(w.url + "/api/subdomains/initech")
	if err != nil {
		t.Fatal(err)
	}
	var avail map[string]any
	_ = json.NewDecoder(aresp.Body).Decode(&avail)
	aresp.Body.Close()
	if avail["available"] != false {
		t.Errorf("availability of a taken subdomain: %v", avail)
	}

	// The progress, streamed: the state now, then the Ready the operator reports.
	ptoken := strings.TrimPrefix(progressURL, "/progress?token=")
	sse, err := http.Get(w.url + "/api/progress?token=" + ptoken)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	if sse.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("progress: %d %s", sse.StatusCode, sse.Header.Get("Content-Type"))
	}
	views := make(chan View, 8)
	go func() {
		defer close(views)
		sc := bufio.NewScanner(sse.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var v View
				_ = json.Unmarshal([]byte(data), &v)
				views <- v
			}
		}
	}()
	first := <-views
	if first.Ready || len(first.Steps) != 5 || first.Steps[0].State != StepWorking {
		t.Errorf("first view: %+v", first)
	}
	playReady(t, "initech", "https://initech.website.com")
	var last View
	for v := range views {
		last = v
	}
	if !last.Ready || last.URL != "https://initech.website.com" {
		t.Errorf("the stream ended on %+v, want Ready", last)
	}

	// CRM and billing heard of the signup, signed: requested, then verified, once each.
	w.srv.events.Wait()
	if got := w.events.types("initech"); !slices.Equal(got, []string{EventRequested, EventVerified}) {
		t.Errorf("signup events %v", got)
	}
	if len(w.events.bad) > 0 {
		t.Errorf("bad deliveries: %v", w.events.bad)
	}
	// A forged or wrong-purpose token gets nothing.
	if r, _ := http.Get(w.url + "/api/progress?token=" + url.QueryEscape(token)); r.StatusCode != http.StatusForbidden {
		t.Errorf("the verification token used for progress: %d", r.StatusCode)
	}
}

func TestRateLimitsAndAbandonedSignups(t *testing.T) {
	cell(t, "use1-console", "us-east-1")
	w := newWorld(t, Config{PerClient: 2, PerDomain: 3, VerifyFor: time.Hour})
	signup := func(c *http.Client, csrf, sub, email string) int {
		code, _ := postSignup(t, c, w.url, csrf, Signup{Company: "Co " + sub, Subdomain: sub, Region: "us-east-1", AdminEmail: email})
		return code
	}
	c1 := browserless(t)
	csrf1 := pageCSRF(t, c1, w.url)
	if signup(c1, csrf1, "limit-a", "a@one.example") != http.StatusAccepted || signup(c1, csrf1, "limit-b", "b@two.example") != http.StatusAccepted {
		t.Fatal("the first two signups from a client were refused")
	}
	if code := signup(c1, csrf1, "limit-c", "c@three.example"); code != http.StatusTooManyRequests {
		t.Errorf("a third from the same client within the hour: %d", code)
	}
	// Per e-mail domain, whatever the client (X-Forwarded-For is not trusted here: every
	// request comes from 127.0.0.1, so the per-client limit is met first; a console behind the
	// Ingress counts clients by the header).
	w2 := newWorld(t, Config{PerClient: 100, PerDomain: 2, VerifyFor: time.Hour, TrustForwardedFor: true})
	c2 := browserless(t)
	csrf2 := pageCSRF(t, c2, w2.url)
	codes := []int{}
	for i, sub := range []string{"dom-a", "dom-b", "dom-c"} {
		body, _ := json.Marshal(Signup{Company: "Co", Subdomain: sub, Region: "us-east-1", AdminEmail: fmt.Sprintf("u%d@same.example", i)})
		req, _ := http.NewRequest(http.MethodPost, w2.url+"/api/signups", strings.NewReader(string(body)))
		req.Header.Set("X-CSRF-Token", csrf2)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		resp, err := c2.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if !slices.Equal(codes, []int{202, 202, 429}) {
		t.Errorf("three signups of one e-mail domain from three clients: %v", codes)
	}

	// Unverified past the link's life: abandoned, announced once.
	*w.now = w.now.Add(2 * time.Hour)
	w.srv.Sweep()
	w.srv.Sweep()
	w.srv.events.Wait()
	for _, sub := range []string{"limit-a", "limit-b"} {
		if got := w.events.types(sub); !slices.Equal(got, []string{EventRequested, EventAbandoned}) {
			t.Errorf("%s: events %v", sub, got)
		}
	}
	// Its link no longer works.
	if code, body := fetch(t, c1, mailedLink(t, "a@one.example")); code != http.StatusBadRequest || !strings.Contains(body, "expired") {
		t.Errorf("an expired link: %d %s", code, body)
	}
}

// The console's ServiceAccount, as the chart makes it, creates and reads Tenants and reads
// RegionCells, and can do nothing else: not change or delete a Tenant, not write status, not
// touch cells, Secrets, ConfigMaps or namespaces.
func TestTheConsoleMayOnlyCreateAndReadTenants(t *testing.T) {
	ctx := context.Background()
	c := asConsole(t)
	cell(t, "apne1-console", "ap-northeast-1")
	if regions, err := (Direct{Client: c}).Regions(ctx); err != nil || !slices.Contains(regions, "ap-northeast-1") {
		t.Fatalf("regions: %v %v", regions, err)
	}
	tn := Signup{Company: "Rights", Subdomain: "rights", Region: "ap-northeast-1", Tier: "pooled", AdminEmail: "a@rights.example"}.Tenant()
	if err := c.Create(ctx, tn.DeepCopy()); err != nil {
		t.Fatalf("create: %v", err)
	}
	got := &saasv1.Tenant{}
	if err := c.Get(ctx, client.ObjectKey{Name: "rights"}, got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if err := c.List(ctx, &saasv1.TenantList{}); err != nil {
		t.Fatalf("list: %v", err)
	}
	forbidden := map[string]error{}
	upd := got.DeepCopy()
	upd.Spec.Suspended = true
	forbidden["update a tenant"] = c.Update(ctx, upd)
	forbidden["write a tenant's status"] = c.Status().Update(ctx, got.DeepCopy())
	forbidden["delete a tenant"] = c.Delete(ctx, got.DeepCopy())
	rc := &saasv1.RegionCell{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "apne1-console"}, rc); err != nil {
		t.Fatal(err)
	}
	rc.Spec.Capacity.MaxTenants++
	forbidden["update a cell"] = c.Update(ctx, rc)
	forbidden["list Secrets"] = c.List(ctx, &corev1.SecretList{})
	forbidden["list ConfigMaps"] = c.List(ctx, &corev1.ConfigMapList{})
	forbidden["create a ConfigMap"] = c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "x"}})
	forbidden["list namespaces"] = c.List(ctx, &corev1.NamespaceList{})
	for what, err := range forbidden {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want Forbidden", what, err)
		}
	}
}

// Every field refused with a message naming it, at the JSON API: what Validate refuses (its
// table test), and what only the wire can carry: invalid UTF-8, control characters, unknown
// fields, an oversized body.
func TestSignupBadInputOnTheWire(t *testing.T) {
	cell(t, "euw3-console", "eu-west-3")
	w := newWorld(t, Config{PerClient: 100, PerDomain: 100})
	c := browserless(t)
	csrf := pageCSRF(t, c, w.url)
	raw := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, w.url+"/api/signups", strings.NewReader(body))
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	good := `"subdomain":"wire","region":"eu-west-3","tier":"pooled","adminEmail":"a@wire.example"`
	cases := []struct {
		name, body string
		code       int
		says       string
	}{
		{"invalid UTF-8 in the company", "{\"company\":\"Caf\xe9\"," + good + "}", 422, `"company":"not valid UTF-8 text"`},
		{"an escaped lone surrogate", `{"company":"\udc00x",` + good + `}`, 422, `"company":"not valid UTF-8 text"`},
		{"a control character", `{"company":"Acme\u0007",` + good + `}`, 422, `"company":"holds control characters"`},
		{"an oversized company", `{"company":"` + strings.Repeat("x", 200) + `",` + good + `}`, 422, `"company":"at most 128 characters"`},
		{"an oversized e-mail", `{"company":"Wire","subdomain":"wire","region":"eu-west-3","tier":"pooled","adminEmail":"` + strings.Repeat("a", 250) + `@wire.example"}`, 422, `"adminEmail"`},
		{"a number for a field", `{"company":7,` + good + `}`, 422, `"company":"must be text"`},
		{"an unknown field", `{"company":"Wire","admin":true,` + good + `}`, 400, `unknown field \"admin\"`},
		{"an unknown region", `{"company":"Wire","subdomain":"wire","region":"xx-nowhere-1","tier":"pooled","adminEmail":"a@wire.example"}`, 422, `"region"`},
		{"a body over 4 KiB", `{"company":"` + strings.Repeat("x", 5000) + `",` + good + `}`, 400, "not a signup"},
		{"not JSON", `company=Wire`, 400, "not a signup"},
	}
	for _, tc := range cases {
		if code, out := raw(tc.body); code != tc.code || !strings.Contains(out, tc.says) {
			t.Errorf("%s: %d %s, want %d saying %s", tc.name, code, out, tc.code, tc.says)
		}
	}
}

// Two people ask for one subdomain at once: both get a link (nothing exists yet), both confirm
// at the same moment; one store is made, for one of them, and the other is told it was taken.
func TestOneSubdomainAskedTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	cell(t, "euw3-console", "eu-west-3")
	w := newWorld(t, Config{PerClient: 100, PerDomain: 100})
	type person struct {
		c     *http.Client
		csrf  string
		email string
	}
	people := []*person{{email: "first@one.example"}, {email: "second@two.example"}}
	for _, p := range people {
		p.c = browserless(t)
		p.csrf = pageCSRF(t, p.c, w.url)
		if code, out := postSignup(t, p.c, w.url, p.csrf, Signup{Company: "Dup", Subdomain: "dup", Region: "eu-west-3", AdminEmail: p.email}); code != http.StatusAccepted {
			t.Fatalf("%s: %d %v", p.email, code, out)
		}
	}
	codes := make(chan int, 2)
	for _, p := range people {
		link := mailedLink(t, p.email)
		tok, _ := url.QueryUnescape(strings.SplitN(link, "token=", 2)[1])
		go func(p *person) {
			resp, err := p.c.PostForm(w.url+"/verify", url.Values{"csrf": {p.csrf}, "token": {tok}})
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}(p)
	}
	got := []int{<-codes, <-codes}
	slices.Sort(got)
	if !slices.Equal(got, []int{http.StatusSeeOther, http.StatusConflict}) {
		t.Errorf("two confirmations of one subdomain: %v, want one store made and one refusal", got)
	}
	tn := &saasv1.Tenant{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "dup"}, tn); err != nil || (tn.Spec.AdminEmail != people[0].email && tn.Spec.AdminEmail != people[1].email) {
		t.Errorf("the store: %+v (%v)", tn.Spec, err)
	}
}
