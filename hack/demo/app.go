package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// localAWS stands in for RDS and ElastiCache with real servers on loopback: a MariaDB server per
// DBInstance, made the way RDS makes one (the master user with the password from the operator's
// Secret, the database of spec.dbName), and one Redis for every replication group. Migration
// Jobs are run for real, with the app binary and the tenant's configuration as the Job mounts it.
type localAWS struct {
	dir    string
	appBin string
	mu     sync.Mutex
	dbs    map[string]*testsvc.MariaDB // by namespace/name
	redis  *testsvc.Server
	apps   []*exec.Cmd
	seeded map[string]bool
}

func newLocalAWS(dir string) (*localAWS, error) {
	redis, err := testsvc.StartRedis()
	if err != nil {
		return nil, err
	}
	l := &localAWS{dir: dir, dbs: map[string]*testsvc.MariaDB{}, redis: redis, seeded: map[string]bool{}}
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
	for _, db := range l.dbs {
		db.Stop()
	}
	l.redis.Stop()
}

// play is one pass over what the operator made.
func (l *localAWS) play(ctx context.Context, c client.Client) {
	var dbs rds.DBInstanceList
	_ = c.List(ctx, &dbs)
	for _, db := range dbs.Items {
		if ack.ReadState(db.Status.Conditions).Synced {
			continue
		}
		port, err := l.database(ctx, c, &db)
		if err != nil {
			say("[local RDS] %s/%s: %v", db.Namespace, db.Name, err)
			continue
		}
		if testenv.PlayDBAvailableAt(ctx, c, db.Namespace, db.Name, "127.0.0.1", int64(port)) == nil {
			say("[local RDS] %s: MariaDB on 127.0.0.1:%d, master user and password from the operator's Secret", *db.Spec.DBInstanceIdentifier, port)
		}
	}
	_, portStr, _ := strings.Cut(l.redis.Addr, ":")
	redisPort, _ := strconv.Atoi(portStr)
	var rgs ecv1.ReplicationGroupList
	_ = c.List(ctx, &rgs)
	for _, rg := range rgs.Items {
		if !ack.ReadState(rg.Status.Conditions).Synced &&
			testenv.PlayCacheAvailableAt(ctx, c, rg.Namespace, rg.Name, "127.0.0.1", int64(redisPort)) == nil {
			say("[local ElastiCache] %s/%s: Redis on %s", rg.Namespace, rg.Name, l.redis.Addr)
		}
	}
	l.migrate(ctx, c)
	testenv.PlayDeployments(ctx, c, func(what string) { say("[played] %s", what) })
	testenv.PlayRecords(ctx, c, func(what string) { say("[played] %s", what) })
}

// database starts (once) the MariaDB server of a DBInstance and sets it up as RDS would.
func (l *localAWS) database(ctx context.Context, c client.Client, db *rds.DBInstance) (int, error) {
	key := db.Namespace + "/" + db.Name
	l.mu.Lock()
	srv := l.dbs[key]
	l.mu.Unlock()
	if srv == nil {
		ref := db.Spec.MasterUserPassword
		if ref == nil || db.Spec.MasterUsername == nil {
			return 0, fmt.Errorf("no master user")
		}
		pw := &corev1.Secret{}
		ns := ref.Namespace
		if ns == "" {
			ns = db.Namespace
		}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, pw); err != nil {
			return 0, err
		}
		var err error
		if srv, err = testsvc.StartMariaDB(); err != nil {
			return 0, err
		}
		root, err := sql.Open("mysql", srv.RootDSN(""))
		if err != nil {
			srv.Stop()
			return 0, err
		}
		defer root.Close()
		user, dbName := *db.Spec.MasterUsername, "app"
		if db.Spec.DBName != nil {
			dbName = *db.Spec.DBName
		}
		for _, stmt := range []string{
			"CREATE DATABASE IF NOT EXISTS `" + dbName + "`",
			"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + string(pw.Data[ref.Key]) + "'",
			"GRANT ALL ON *.* TO '" + user + "'@'%'",
		} {
			if _, err := root.ExecContext(ctx, stmt); err != nil {
				srv.Stop()
				return 0, fmt.Errorf("setting up the master user: %w", err)
			}
		}
		l.mu.Lock()
		l.dbs[key] = srv
		l.mu.Unlock()
	}
	_, port, _ := strings.Cut(srv.Addr, ":")
	return strconv.Atoi(port)
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
func (l *localAWS) serveApp(kubeconfig, namespace, listen string) error {
	cmd := exec.Command(l.appBin, "serve", "--listen="+listen, "--kubeconfig="+kubeconfig, "--tenant-secrets-namespace="+namespace)
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
