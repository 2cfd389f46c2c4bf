package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/test/localaws"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// localAWS is the demo's AWS: localaws.Stores stand in for RDS and ElastiCache on loopback, and
// migration Jobs are run for real, with the app binary and the tenant's configuration as the Job
// mounts it.
type localAWS struct {
	*localaws.Stores
	dir    string
	appBin string
	apps   []*exec.Cmd
	seeded map[string]bool
}

func newLocalAWS(dir string) (*localAWS, error) {
	stores, err := localaws.Start("127.0.0.1", testsvc.RedisOptions{})
	if err != nil {
		return nil, err
	}
	l := &localAWS{Stores: stores, dir: dir, seeded: map[string]bool{}}
	say("building the app")
	l.appBin = filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", l.appBin, "./app")
	build.Dir = testenv.Root()
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		l.stop()
		return nil, fmt.Errorf("building the app: %w", err)
	}
	return l, nil
}

func (l *localAWS) stop() {
	for _, a := range l.apps {
		_ = a.Process.Signal(os.Interrupt)
		_ = a.Wait()
	}
	l.Stop()
}

// play is one pass over what the operator made.
func (l *localAWS) play(ctx context.Context, c client.Client) {
	l.Play(ctx, c, say)
	l.migrate(ctx, c)
}

// migrate runs each unfinished migration Job's command for real, as its pod would: the tenant's
// configuration Secret written as files, `app migrate --tenant X --config-dir D`.
func (l *localAWS) migrate(ctx context.Context, c client.Client) {
	var jobs batchv1.JobList
	_ = c.List(ctx, &jobs, client.MatchingLabels{saasv1.LabelComponent: "migration"})
	for _, j := range jobs.Items {
		if len(j.Status.Conditions) > 0 {
			continue
		}
		tenant := j.Labels[saasv1.LabelTenant]
		cfg := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: j.Namespace, Name: "tenant-config"}, cfg); err != nil {
			continue
		}
		dir := filepath.Join(l.dir, "config", j.Namespace)
		tdir := filepath.Join(dir, tenant)
		if err := os.MkdirAll(tdir, 0o700); err != nil {
			continue
		}
		for k, v := range cfg.Data {
			_ = os.WriteFile(filepath.Join(tdir, k), v, 0o600)
		}
		out, err := exec.CommandContext(ctx, l.appBin, "migrate", "--tenant="+tenant, "--config-dir="+dir).CombinedOutput()
		ok := err == nil
		if testenv.PlayJobFinished(ctx, c, j.Namespace, j.Name, ok) == nil {
			say("[local Job] %s/%s ran `app migrate --tenant=%s`: %s", j.Namespace, j.Name, tenant, map[bool]string{true: "succeeded", false: "failed: " + string(out)}[ok])
		}
		if ok && !l.seeded[tenant] {
			l.seeded[tenant] = true
			l.seed(ctx, tdir)
		}
	}
}

// seed gives a freshly migrated tenant a few items and ratings to look at.
func (l *localAWS) seed(ctx context.Context, tdir string) {
	read := func(k string) string {
		b, _ := os.ReadFile(filepath.Join(tdir, k))
		return strings.TrimSpace(string(b))
	}
	dsn := fmt.Sprintf("%s:%s@tcp(%s:%s)/%s", read(saasv1.ConfigDBUser), read(saasv1.ConfigDBPassword), read(saasv1.ConfigDBHost), read(saasv1.ConfigDBPort), read(saasv1.ConfigDBName))
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return
	}
	defer db.Close()
	tenant := read(saasv1.ConfigTenantID)
	for i, name := range []string{"Welcome kit", "Starter plan", "Premium plan"} {
		res, err := db.ExecContext(ctx, "INSERT INTO items (category, name, description) VALUES (?, ?, ?)", "plans", name, "a sample item of "+tenant)
		if err != nil {
			return
		}
		id, _ := res.LastInsertId()
		for r := 0; r < 2+i; r++ {
			_, _ = db.ExecContext(ctx, "INSERT INTO ratings (item_id, customer, stars, review) VALUES (?, ?, ?, 'sample')", id, fmt.Sprintf("customer-%d", r), 3+(i+r)%3)
		}
	}
}

// serveApp starts the app as the operator deploys it, watching the configuration Secrets of a
// namespace through the demo's kubeconfig.
func (l *localAWS) serveApp(kubeconfig, namespace, listen, opsListen string) error {
	cmd := exec.Command(l.appBin, "serve", "--listen="+listen, "--ops-listen="+opsListen, "--kubeconfig="+kubeconfig, "--tenant-secrets-namespace="+namespace)
	logf, err := os.Create(filepath.Join(l.dir, "app-"+namespace+".log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	l.apps = append(l.apps, cmd)
	return nil
}
