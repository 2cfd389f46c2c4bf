package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantops/tenant-operator/test/testenv"
)

// gitServer is a real Git server: a bare repository served over HTTP by git's own http-backend
// (smart HTTP, pushes allowed), behind basic authentication.
func gitServer(t *testing.T) (url, dir string) {
	t.Helper()
	root := t.TempDir()
	run := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=platform", "GIT_AUTHOR_EMAIL=platform@website.com",
			"GIT_COMMITTER_NAME=platform", "GIT_COMMITTER_EMAIL=platform@website.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+root)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	work := filepath.Join(root, "work")
	run(root, "init", "-q", "-b", "main", work)
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("Tenants, applied by Argo CD.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(work, "add", ".")
	run(work, "commit", "-q", "-m", "start")
	run(root, "clone", "-q", "--bare", work, filepath.Join(root, "tenants.git"))
	run(filepath.Join(root, "tenants.git"), "config", "http.receivepack", "true")
	backend := &cgi.Handler{Path: "/usr/lib/git-core/git-http-backend", Root: "/",
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=console"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "console" || p != "s3cret-token" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/tenants.git", root
}

// cloneWithGit reads the repository as a person (or Argo CD) would: git's own client.
func cloneWithGit(t *testing.T, url string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	authed := strings.Replace(url, "http://", "http://console:s3cret-token@", 1)
	if out, err := exec.Command("git", "clone", "-q", authed, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	return dir
}

func TestGitModeCommitsTheTenantsYAML(t *testing.T) {
	ctx := context.Background()
	url, _ := gitServer(t)
	reader := Direct{Client: asConsole(t)}
	g := &Git{Reader: reader, URL: url, Branch: "main", Dir: "tenants", AuthorName: "signup console", AuthorEmail: "signup@website.com",
		Auth: &githttp.BasicAuth{Username: "console", Password: "s3cret-token"}}

	s := Signup{Company: "Hooli", Subdomain: "hooli", Region: "us-west-2", Tier: "pooled", AdminEmail: "gavin@hooli.example"}
	if err := g.Create(ctx, s.Tenant()); err != nil {
		t.Fatal(err)
	}
	dir := cloneWithGit(t, url)
	got, err := os.ReadFile(filepath.Join(dir, "tenants", "hooli.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// What a platform engineer would write by hand, nothing more.
	want := `apiVersion: saas.tenantops.io/v1alpha1
kind: Tenant
metadata:
  labels:
    saas.tenantops.io/signup: console
  name: hooli
spec:
  adminEmail: gavin@hooli.example
  displayName: Hooli
  region: us-west-2
  subdomain: hooli
  tier: pooled
`
	if string(got) != want {
		t.Errorf("tenants/hooli.yaml:\n%s\nwant\n%s", got, want)
	}
	if out, _ := exec.Command("git", "-C", dir, "log", "-1", "--format=%an <%ae>: %s").CombinedOutput(); !strings.Contains(string(out), "signup console <signup@website.com>: Tenant hooli") {
		t.Errorf("the commit: %s", out)
	}
	// Committed but not applied yet: taken all the same.
	if tn, err := g.Get(ctx, "hooli"); err != nil || tn == nil || tn.Spec.AdminEmail != s.AdminEmail {
		t.Errorf("a Tenant in Git only: %+v (%v)", tn, err)
	}
	if err := admin.Get(ctx, client.ObjectKey{Name: "hooli"}, s.Tenant()); err == nil {
		t.Error("git mode wrote to the cluster")
	}
	if err := g.Create(ctx, s.Tenant()); !errors.Is(err, ErrTaken) {
		t.Errorf("the same subdomain again: %v", err)
	}
	if tn, err := g.Get(ctx, "nobody"); err != nil || tn != nil {
		t.Errorf("a subdomain nobody has: %+v (%v)", tn, err)
	}

	// The admin view's buttons in git mode: commits that set (or, back to the default, drop)
	// the same spec fields.
	if err := g.Edit(ctx, "hooli", map[string]any{"suspended": true}, "ops@website.com"); err != nil {
		t.Fatal(err)
	}
	if err := g.Edit(ctx, "hooli", map[string]any{"cell": "usw2-b"}, "ops@website.com"); err != nil {
		t.Fatal(err)
	}
	dir = cloneWithGit(t, url)
	edited, _ := os.ReadFile(filepath.Join(dir, "tenants", "hooli.yaml"))
	if !strings.Contains(string(edited), "  suspended: true\n") || !strings.Contains(string(edited), "  cell: usw2-b\n") ||
		!strings.Contains(string(edited), "  adminEmail: gavin@hooli.example\n") {
		t.Errorf("after suspend and move:\n%s", edited)
	}
	if out, _ := exec.Command("git", "-C", dir, "log", "-1", "--format=%s").CombinedOutput(); !strings.Contains(string(out), "moved to cell usw2-b") ||
		!strings.Contains(string(out), "ops@website.com") {
		t.Errorf("the move's commit: %s", out)
	}
	if err := g.Edit(ctx, "hooli", map[string]any{"suspended": false}, "ops@website.com"); err != nil {
		t.Fatal(err)
	}
	dir = cloneWithGit(t, url)
	if edited, _ := os.ReadFile(filepath.Join(dir, "tenants", "hooli.yaml")); strings.Contains(string(edited), "suspended") {
		t.Errorf("after resume:\n%s", edited)
	}
	if err := g.Edit(ctx, "declared-elsewhere", map[string]any{"suspended": true}, "ops@website.com"); !errors.Is(err, ErrNotInGit) {
		t.Errorf("a tenant without a file: %v", err)
	}

	// Two console replicas committing at once: each push that lost the race commits again on
	// top of the other's, and both Tenants land.
	g2 := &Git{Reader: g.Reader, URL: g.URL, Branch: g.Branch, Dir: g.Dir, Auth: g.Auth, AuthorName: g.AuthorName, AuthorEmail: g.AuthorEmail}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			writer := g
			if i%2 == 1 {
				writer = g2
			}
			errs[i] = writer.Create(ctx, Signup{Company: "Race", Subdomain: fmt.Sprintf("race-%d", i), Region: "us-west-2", Tier: "pooled",
				AdminEmail: "r@race.example"}.Tenant())
		}(i)
	}
	wg.Wait()
	dir = cloneWithGit(t, url)
	for i, err := range errs {
		if err != nil {
			t.Errorf("race-%d: %v", i, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "tenants", fmt.Sprintf("race-%d.yaml", i))); err != nil {
			t.Errorf("race-%d not in the repository: %v", i, err)
		}
	}

	// A wrong token: refused, and said.
	bad := &Git{Reader: g.Reader, URL: g.URL, Branch: g.Branch, Dir: g.Dir, Auth: &githttp.BasicAuth{Username: "console", Password: "wrong"}}
	if err := bad.Create(ctx, Signup{Company: "X", Subdomain: "nope", Region: "us-west-2", Tier: "pooled", AdminEmail: "x@x.example"}.Tenant()); err == nil ||
		!strings.Contains(err.Error(), "authentication") {
		t.Errorf("a wrong token: %v", err)
	}
}

// The chart in git mode: the console's ServiceAccount only reads Tenants (Git brings them), and
// git mode without a repository is refused by the values' schema.
func TestChartGitMode(t *testing.T) {
	verbs := func(values map[string]any) (string, string) {
		t.Helper()
		objs, err := testenv.RenderChart(map[string]any{"console": values}, "tenant-operator", "console-system")
		if err != nil {
			t.Fatal(err)
		}
		var rules, args string
		for _, o := range objs {
			if o.GetLabels()["app.kubernetes.io/component"] != "console" {
				continue
			}
			switch o.GetKind() {
			case "ClusterRole":
				rules = fmt.Sprint(o.Object["rules"])
			case "Deployment":
				args = fmt.Sprint(o.Object["spec"])
			}
		}
		return rules, args
	}
	rules, _ := verbs(map[string]any{"enabled": true})
	if !strings.Contains(rules, "create") {
		t.Errorf("direct mode cannot create Tenants: %s", rules)
	}
	rules, args := verbs(map[string]any{"enabled": true, "mode": "git", "git": map[string]any{"url": "https://git.website.com/platform/tenants.git", "username": "console"}})
	if strings.Contains(rules, "create") || !strings.Contains(args, "--git-url=https://git.website.com/platform/tenants.git") ||
		!strings.Contains(args, "--git-password-file=/etc/console/keys/git-password") {
		t.Errorf("git mode: rules %s\nargs %s", rules, args)
	}
	_, args = verbs(map[string]any{"enabled": true, "mode": "git", "git": map[string]any{"url": "ssh://git@git.website.com/platform/tenants.git"}})
	if !strings.Contains(args, "--git-ssh-key-file=/etc/console/keys/git-ssh-key") {
		t.Errorf("git mode over SSH: %s", args)
	}
	if _, err := testenv.RenderChart(map[string]any{"console": map[string]any{"enabled": true, "mode": "git"}}, "r", "ns"); err == nil {
		t.Error("git mode without a repository was rendered")
	}
}

// The console's pods are no one else's: no selector of the operator's (its Deployment, Service,
// PodDisruptionBudget) matches them, and theirs match only their own.
func TestChartConsolePodsAreTheirOwn(t *testing.T) {
	objs, err := testenv.RenderChart(map[string]any{"console": map[string]any{"enabled": true,
		"admin": map[string]any{"enabled": true, "group": "platform", "oidc": map[string]any{"issuerURL": "https://login.example.com"}}}}, "tenant-operator", "ns")
	if err != nil {
		t.Fatal(err)
	}
	podLabels := map[string]map[string]any{} // by Deployment
	var selectors []struct {
		owner string
		sel   map[string]any
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment":
			tpl, _, _ := unstructured.NestedMap(o.Object, "spec", "template", "metadata", "labels")
			podLabels[o.GetName()] = tpl
			sel, _, _ := unstructured.NestedMap(o.Object, "spec", "selector", "matchLabels")
			selectors = append(selectors, struct {
				owner string
				sel   map[string]any
			}{"Deployment " + o.GetName(), sel})
		case "Service", "PodDisruptionBudget":
			sel, _, _ := unstructured.NestedMap(o.Object, "spec", "selector")
			if m, ok, _ := unstructured.NestedMap(o.Object, "spec", "selector", "matchLabels"); ok {
				sel = m
			}
			selectors = append(selectors, struct {
				owner string
				sel   map[string]any
			}{o.GetKind() + " " + o.GetName(), sel})
		}
	}
	if len(podLabels) != 3 {
		t.Fatalf("Deployments %v, want the operator's, the console's and its admin view's", podLabels)
	}
	for _, s := range selectors {
		var matches []string
		for dep, labels := range podLabels {
			all := len(s.sel) > 0
			for k, v := range s.sel {
				all = all && labels[k] == v
			}
			if all {
				matches = append(matches, dep)
			}
		}
		if len(matches) != 1 {
			t.Errorf("%s selects the pods of %v, want exactly one Deployment's", s.owner, matches)
		}
	}
}
