package controllers

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsrds"
	"github.com/tenantops/tenant-operator/controllers/tenant"
	"github.com/tenantops/tenant-operator/controllers/verdict"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// The suite runs the real manager, cache and controllers against a real kube-apiserver and
// etcd with the upstream ACK CRDs. Nothing else runs: no ACK controller, no kubelet, no Job or
// Deployment controller. Where a test needs what they would do, it writes the status they
// would write (the play* helpers), and nothing more.
var (
	k8s        client.Client // the test's own uncached client
	restConfig *rest.Config  // the API server's admin configuration
	operator   client.Client // the operator's client: cached reads, counted writes
	writes     = &testenv.WriteLog{}
	clock      = &testClock{}
	logs       = &testenv.SyncBuffer{}
	eventsText func() string
	// moto plays the AWS APIs ACK lacks (RDS snapshot copies across regions) for the operator.
	moto *testsvc.Moto
)

// suiteJurisdictions are the regions the suite's operator may copy tenant data between.
const suiteJurisdictions = "us=us-east-2,us-west-1;eu=eu-central-1"

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if moto, err = testsvc.StartMoto(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer moto.Stop()
	jurisdictions, err := recovery.ParseJurisdictions(suiteJurisdictions)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logs), zap.Level(zapcore.DebugLevel)))

	restConfig = env.Config
	scheme := NewScheme()
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   CacheOptions(),
		NewClient: func(cfg *rest.Config, opts client.Options) (client.Client, error) {
			c, err := client.NewWithWatch(cfg, opts)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(c, writes.Funcs()), nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	operator = mgr.GetClient()
	if err := SetupAll(mgr, Options{
		MaxConcurrentReconciles: 2,
		Now:                     clock.Now,
		NotificationBackoff:     notify.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Attempts: 8},
		MoveWarmup:              time.Second,
		MoveDrain:               2 * time.Second,
		Copier:                  &awsrds.Client{Config: moto.Config(), EndpointURL: moto.URL},
		Jurisdictions:           jurisdictions,
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	eventsText = func() string {
		var evs corev1.EventList
		_ = k8s.List(context.Background(), &evs)
		var sb strings.Builder
		for _, e := range evs.Items {
			sb.WriteString(e.Reason + " " + e.Message + "\n")
		}
		return sb.String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, "---- operator log (tail) ----")
		l := logs.String()
		if len(l) > 20000 {
			l = l[len(l)-20000:]
		}
		fmt.Fprintln(os.Stderr, l)
	}
	return code
}

// testClock is the reconcilers' clock: real time plus an offset a test can move forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// eventually retries check until it passes or 30 s pass.
func eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	eventuallyWithin(t, 30*time.Second, what, check)
}

// eventuallyWithin retries check until it passes or within passes.
func eventuallyWithin(t testing.TB, within time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

// stays checks that check keeps passing for d.
func stays(t testing.TB, what string, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := check(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(t testing.TB, obj client.Object, ns, name string) error {
	t.Helper()
	return k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// condition is the condition of type typ (status Unknown when absent).
func condition(conds []metav1.Condition, typ string) metav1.Condition {
	return verdict.Condition(conds, typ)
}

func tenantCondition(name, typ string) (metav1.Condition, *saasv1.Tenant, error) {
	t := &saasv1.Tenant{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, t); err != nil {
		return metav1.Condition{}, nil, err
	}
	return condition(t.Status.Conditions, typ), t, nil
}

// tenantHas waits until the tenant's condition typ has status (and, if given, reason).
func tenantHas(t testing.TB, name, typ string, status metav1.ConditionStatus, reason string) *saasv1.Tenant {
	t.Helper()
	var tn *saasv1.Tenant
	eventually(t, fmt.Sprintf("tenant %s %s=%s %s", name, typ, status, reason), func() error {
		c, got, err := tenantCondition(name, typ)
		if err != nil {
			return err
		}
		if c.Status != status || (reason != "" && c.Reason != reason) || c.ObservedGeneration != got.Generation {
			return fmt.Errorf("%s is %s/%s (gen %d of %d): %s", typ, c.Status, c.Reason, c.ObservedGeneration, got.Generation, c.Message)
		}
		tn = got
		return nil
	})
	return tn
}

// playStatus writes, as the named outside system would, the status of obj.
func playStatus(t testing.TB, obj client.Object, ns, name string, set func()) {
	t.Helper()
	play(t, "status of "+ns+"/"+name, func(ctx context.Context) error {
		return testenv.PlayStatus(ctx, k8s, obj, ns, name, set)
	})
}

// play retries an outside system's status write until the object exists and the write lands.
func play(t testing.TB, what string, write func(context.Context) error) {
	t.Helper()
	eventually(t, "play "+what, func() error { return write(context.Background()) })
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

var _ reconcile.Reconciler = &tenant.Reconciler{}

func ptr[T any](v T) *T { return &v }

// writesOnPoke annotates obj (a change no controller acts on), waits for controller to finish a
// reconcile, and returns the writes since then that mention any of names: an unchanged
// object's reconcile must make none.
func writesOnPoke(t testing.TB, obj client.Object, controller string, names ...string) []string {
	t.Helper()
	before := testenv.ReconcileTotal(controller)
	mark := writes.Mark()
	must(t, get(t, obj, obj.GetNamespace(), obj.GetName()))
	orig := obj.DeepCopyObject().(client.Object)
	obj.SetAnnotations(map[string]string{"example.com/poke": time.Now().String()})
	must(t, k8s.Patch(context.Background(), obj, client.MergeFrom(orig)))
	eventually(t, "a "+controller+" reconcile after the poke", func() error {
		if testenv.ReconcileTotal(controller) <= before {
			return fmt.Errorf("no reconcile yet")
		}
		return nil
	})
	time.Sleep(time.Second) // let anything the reconcile would write arrive
	var out []string
	for _, w := range writes.Since(mark) {
		for _, n := range names {
			if strings.Contains(w, n) {
				out = append(out, w)
				break
			}
		}
	}
	return out
}
