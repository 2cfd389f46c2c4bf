package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
)

var (
	env *testenv.Env
	k8s client.Client // the test's own client, straight to the API server
	// player plays AWS, the Job controller and the kubelet; its RDS account says which
	// instances exist and who manages them.
	player *testenv.Player
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	var err error
	if env, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if k8s, err = client.New(env.Config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The test plays AWS, the Job controller and the kubelet, through its own client.
	ctx, cancel := context.WithCancel(context.Background())
	if player, err = testenv.StartPlayer(ctx, env.Config, testenv.PlayerOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	cancel()
	_ = env.Stop()
	os.Exit(code)
}

// operator runs one operator process whose every request goes through its own proxy; stop
// ends it and waits until it has stopped (what was killed stays killed: its proxy forwards none
// of its writes).
func operator(t *testing.T, setup func(*Proxy)) (*Proxy, func()) {
	t.Helper()
	p, err := Start(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opts := controllers.Options{MaxConcurrentReconciles: 2,
		NotificationBackoff: notify.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Attempts: 8},
		WebhookTransport:    p.Transport()}
	// One process runs operator after operator: their controllers' names repeat.
	skip := true
	stopped, err := inprocess.StartOperator(ctx, p.Config(), opts, func(o *ctrl.Options) { o.Controller.SkipNameValidation = &skip })
	if err != nil {
		t.Fatal(err)
	}
	return p, func() {
		cancel()
		p.LetReadsThrough()
		select {
		case <-stopped:
		case <-time.After(time.Minute):
			t.Errorf("an operator did not stop within a minute of being told to")
		}
		p.Close()
	}
}

func cell(t *testing.T, name, region string, mutate ...func(*saasv1.RegionCell)) {
	t.Helper()
	c, err := testenv.SampleCell()
	if err != nil {
		t.Fatal(err)
	}
	c.Name, c.Spec.Region, c.ResourceVersion = name, region, ""
	for _, m := range mutate {
		m(c)
	}
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func tenant(t *testing.T, name, region string) {
	t.Helper()
	tn := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.TenantSpec{DisplayName: name, Region: region, Subdomain: name, AdminEmail: "it@" + name + ".example"}}
	if err := k8s.Create(context.Background(), tn); err != nil {
		t.Fatal(err)
	}
}

// waitUntil polls done until it is true or within passed, and says which.
func waitUntil(within time.Duration, done func() bool) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if done() {
			return true
		}
	}
	return done()
}

func isReady(name string, tn *saasv1.Tenant) bool {
	return k8s.Get(context.Background(), client.ObjectKey{Name: name}, tn) == nil && tn.Status.Phase == saasv1.PhaseReady
}

func waitReady(t *testing.T, name string, within time.Duration) {
	t.Helper()
	tn := &saasv1.Tenant{}
	if !waitUntil(within, func() bool { return isReady(name, tn) }) {
		t.Fatalf("tenant %s not Ready in %s: phase %q, conditions %+v", name, within, tn.Status.Phase, tn.Status.Conditions)
	}
}

// promisesKept checks what must hold after any fault: one database, its password never
// rewritten and the one the app is given, every child owned by the tenant, and no DELETE
// during onboarding.
func promisesKept(t *testing.T, name string, proxies ...*Proxy) {
	t.Helper()
	ctx := context.Background()
	ns := "tenant-" + name
	var dbs rds.DBInstanceList
	must(t, k8s.List(ctx, &dbs, client.InNamespace(ns)))
	if len(dbs.Items) != 1 {
		t.Errorf("%s: %d DBInstances", name, len(dbs.Items))
	}
	pw, cfg := &corev1.Secret{}, &corev1.Secret{}
	must(t, k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: b.DBPasswordSecretName}, pw))
	must(t, k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: b.TenantConfigName}, cfg))
	if string(pw.Data[b.DBPasswordKey]) == "" || string(cfg.Data[saasv1.ConfigDBPassword]) != string(pw.Data[b.DBPasswordKey]) {
		t.Errorf("%s: the app's configuration does not carry the database's password", name)
	}
	for _, mf := range pw.ManagedFields {
		if mf.Operation != metav1.ManagedFieldsOperationUpdate || mf.Manager != "tenant-operator" {
			t.Errorf("%s: password Secret written as %s by %s: it must be created once and never written again", name, mf.Operation, mf.Manager)
		}
	}
	for _, o := range []client.Object{&dbs.Items[0], pw, cfg} {
		if ref := metav1.GetControllerOf(o); ref == nil || ref.Kind != "Tenant" || ref.Name != name {
			t.Errorf("%s: %T %s not owned by its Tenant: %v", name, o, o.GetName(), ref)
		}
	}
	for _, p := range proxies {
		for _, w := range p.Writes() {
			if strings.HasPrefix(w, "DELETE ") && strings.Contains(w, "/"+ns+"/") {
				t.Errorf("%s: a DELETE nobody asked for: %s", name, w)
			}
			if (strings.HasPrefix(w, "PATCH ") || strings.HasPrefix(w, "PUT ")) && strings.HasSuffix(w, "/secrets/"+b.DBPasswordSecretName) {
				t.Errorf("%s: the password Secret was written over: %s", name, w)
			}
		}
	}
}

// killStep is how far apart the kills are: every third write, or every write for make chaos.
func killStep() int {
	if os.Getenv("FAULTS_EVERY_K") == "1" {
		return 1
	}
	return 3
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Every third write refused with a conflict: the tenant still converges, promises kept.
func TestConflictsOnAThirdOfTheWrites(t *testing.T) {
	cell(t, "conflicts", "eu-north-1")
	tenant(t, "conflicted", "eu-north-1")
	p, stop := operator(t, func(p *Proxy) { p.ConflictEvery(3) })
	defer stop()
	waitReady(t, "conflicted", 90*time.Second)
	promisesKept(t, "conflicted", p)
}

// An outage that cuts every watch mid-onboarding: once the API server is back, the tenant
// converges on the informers' relist.
func TestAnOutageThatCutsTheWatches(t *testing.T) {
	cell(t, "outage", "eu-north-2")
	tenant(t, "cutoff", "eu-north-2")
	p, stop := operator(t, nil)
	defer stop()
	waitUntil(60*time.Second, func() bool { return len(p.Writes()) >= 5 })
	p.SetDown(true)
	time.Sleep(5 * time.Second)
	p.SetDown(false)
	tn := &saasv1.Tenant{}
	if !waitUntil(90*time.Second, func() bool { return isReady("cutoff", tn) }) {
		c := &saasv1.RegionCell{}
		_ = k8s.Get(context.Background(), client.ObjectKey{Name: "outage"}, c)
		t.Fatalf("tenant cutoff not Ready 90 s after the outage: phase %q, conditions %+v; its cell: phase %q, observed generation %d of %d, conditions %+v",
			tn.Status.Phase, tn.Status.Conditions, c.Status.Phase, c.Status.ObservedGeneration, c.Generation, c.Status.Conditions)
	}
	promisesKept(t, "cutoff", p)
}

// The operator killed at its k-th write of a tenant's onboarding, for every k up to the number
// of writes an onboarding takes (every third k unless FAULTS_EVERY_K=1, as `make chaos` runs):
// a new operator finishes the onboarding, and every promise holds.
func TestKilledAtEachWriteOfAnOnboarding(t *testing.T) {
	cell(t, "kills", "eu-north-3")
	tenant(t, "kill-0", "eu-north-3")
	start := time.Now()
	clean, stop := operator(t, nil)
	waitReady(t, "kill-0", 90*time.Second)
	cleanTook := time.Since(start)
	time.Sleep(time.Second) // the last status writes of the onboarding
	stop()
	n := len(clean.Writes())
	promisesKept(t, "kill-0", clean)
	step := killStep()
	t.Logf("baseline: a clean onboarding (with the cell's own start) takes %d writes and %s; killing at every %d",
		n, cleanTook.Round(time.Millisecond), step)
	for k := 1; k <= n; k += step {
		name := fmt.Sprintf("kill-%d", k)
		tenant(t, name, "eu-north-3")
		start := time.Now()
		killed, stopKilled := operator(t, func(p *Proxy) { p.KillAfter(k) })
		// Until the kill, or the onboarding ended in fewer writes than k.
		waitUntil(60*time.Second, func() bool { return killed.Dead() || isReady(name, &saasv1.Tenant{}) })
		stopKilled()
		next, stopNext := operator(t, nil)
		waitReady(t, name, 90*time.Second)
		stopNext()
		promisesKept(t, name, killed, next)
		t.Logf("killed at write %d: converged in %s", k, time.Since(start).Round(time.Millisecond))
	}
}

// receiver is a webhook endpoint that counts the lifecycle events it took, by event id.
type receiver struct {
	mu   sync.Mutex
	took map[string]int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.took[req.Header.Get(notify.HeaderDelivery)]++
	w.WriteHeader(http.StatusAccepted)
}

// deletionState says where a deletion stands: the Tenant's finalizers and Ready condition if it is
// still there, the outbox entries of the cell, and whether the receiver took the event.
func deletionState(ctx context.Context, name, uid string, rcv *receiver) string {
	var sb strings.Builder
	tn := &saasv1.Tenant{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: name}, tn); err != nil {
		fmt.Fprintf(&sb, "tenant: %v; ", err)
	} else {
		ready := meta.FindStatusCondition(tn.Status.Conditions, saasv1.ConditionReady)
		fmt.Fprintf(&sb, "tenant: finalizers %v, deleting since %v, Ready %+v; ", tn.Finalizers, tn.DeletionTimestamp, ready)
	}
	var cms corev1.ConfigMapList
	if err := k8s.List(ctx, &cms); err == nil {
		for _, cm := range cms.Items {
			if _, entry := cm.Labels[notify.OutboxLabel]; entry {
				fmt.Fprintf(&sb, "configmap %s/%s labels %v annotations %v; ", cm.Namespace, cm.Name, cm.Labels, cm.Annotations)
			}
		}
	}
	fmt.Fprintf(&sb, "receiver took the Deleted event %d times", rcv.deletedTaken(uid))
	return sb.String()
}

// deliveryRecorded says whether the outbox entry of the tenant's Deleted event is marked
// taken by every receiver.
func deliveryRecorded(ctx context.Context, cellNS, uid string) bool {
	entry := &corev1.ConfigMap{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: cellNS, Name: "event-" + uid + "-deleted"}, entry); err != nil {
		return false
	}
	return entry.Annotations[notify.AnnotationDeliveredAt] != ""
}

// deletedTaken is how many times the receiver took the Deleted event of the tenant with uid.
func (r *receiver) deletedTaken(uid string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.took[uid+"-deleted"]
}

// deletionPromisesKept checks a deletion that went through kills: the tenant and its copy of
// the configuration in the cell are gone, the database was deleted only after it carried its
// final-snapshot settings, nothing outside the tenant was deleted, and its Deleted event
// reached the receiver exactly once; twice, with the same event ID, only where the kill fell
// between a delivery and its record (the killed operator's record of the entry never arrived:
// delivery is at least once, and receivers deduplicate on the ID, as docs/operations.md says).
func deletionPromisesKept(t *testing.T, name, uid, cellNS string, rcv *receiver, proxies ...*Proxy) {
	t.Helper()
	ctx := context.Background()
	ns := "tenant-" + name
	if err := k8s.Get(ctx, client.ObjectKey{Name: name}, &saasv1.Tenant{}); !apierrors.IsNotFound(err) {
		t.Errorf("%s: still there: %v", name, err)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: cellNS, Name: "tenant-" + name}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("%s: its configuration in the cell is left behind: %v", name, err)
	}
	var all []string
	for _, p := range proxies {
		all = append(all, p.Writes()...)
	}
	dbPath := "/namespaces/" + ns + "/dbinstances/" + b.DBInstanceName
	prepared := false
	for _, w := range all {
		switch {
		case strings.HasPrefix(w, "PATCH ") && strings.HasSuffix(w, dbPath):
			prepared = true
		case strings.HasPrefix(w, "DELETE ") && strings.HasSuffix(w, dbPath) && !prepared:
			t.Errorf("%s: the database was deleted before its final-snapshot settings were written", name)
		}
		if strings.HasPrefix(w, "DELETE ") && !strings.Contains(w, "/namespaces/"+ns+"/") && !strings.HasSuffix(w, "/namespaces/"+ns) &&
			!strings.HasSuffix(w, "/namespaces/"+cellNS+"/secrets/tenant-"+name) {
			t.Errorf("%s: a DELETE nobody asked for: %s", name, w)
		}
	}
	if !waitUntil(30*time.Second, func() bool { return rcv.deletedTaken(uid) >= 1 }) {
		t.Errorf("%s: the Deleted event never reached the receiver", name)
	}
	time.Sleep(200 * time.Millisecond) // a second delivery, if there were one, would be under way
	want := 1
	for _, p := range proxies {
		// Delivered, then killed before the record of it landed: the record was sent after the
		// kill (refused), or was under way at it (cut, and it may not have landed).
		for _, w := range append(p.Refused(), p.InFlightAtKill()...) {
			if strings.HasPrefix(w, "PATCH ") && strings.HasSuffix(w, "/namespaces/"+cellNS+"/configmaps/event-"+uid+"-deleted") {
				want = 2
			}
		}
	}
	if n := rcv.deletedTaken(uid); n < 1 || n > want {
		var last []string
		for _, p := range proxies {
			w := p.Writes()
			last = append(last, fmt.Sprintf("last writes %v, in flight at the kill %v, refused %v", w[max(0, len(w)-4):], p.InFlightAtKill(), p.Refused()))
		}
		t.Errorf("%s: the Deleted event reached the receiver %d times, want once (twice only after a kill between a delivery and its record): %s",
			name, n, strings.Join(last, "; "))
	}
}

// The operator killed at its k-th write of a tenant's deletion, for every k up to the number of
// writes a deletion takes (every third k unless FAULTS_EVERY_K=1): a new operator finishes it,
// the database goes only with its final-snapshot settings, and the Deleted event reaches the
// cell's receiver exactly once.
func TestKilledAtEachWriteOfADeletion(t *testing.T) {
	ctx := context.Background()
	rcv := &receiver{took: map[string]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	must(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "faults-hmac"}}))
	must(t, k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "faults-hmac", Name: "hmac"},
		Data: map[string][]byte{"key": []byte("k")}}))
	cell(t, "deletions", "eu-south-2", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{Webhooks: []saasv1.Webhook{{Name: "crm", URL: srv.URL + "/crm"}},
			HMACSecretRef: &saasv1.SecretKeyRef{Namespace: "faults-hmac", Name: "hmac", Key: "key"}}
	})
	// onboarded makes a Ready tenant with an operator that is then stopped, and returns its UID.
	onboarded := func(name string) string {
		tenant(t, name, "eu-south-2")
		_, stop := operator(t, nil)
		defer stop()
		tn := &saasv1.Tenant{}
		waitReady(t, name, 90*time.Second)
		must(t, k8s.Get(ctx, client.ObjectKey{Name: name}, tn))
		return string(tn.UID)
	}
	gone := func(name string) bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: name}, &saasv1.Tenant{}))
	}
	deleteTenant := func(name string) {
		must(t, k8s.Delete(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	}

	// A neighbour that stays: nothing of it may be touched by the deletions around it.
	onboarded("stays")
	uid := onboarded("del-0")
	clean, stop := operator(t, nil)
	time.Sleep(2 * time.Second) // its caches fill; at rest it writes nothing
	before := len(clean.Writes())
	start := time.Now()
	deleteTenant("del-0")
	if !waitUntil(90*time.Second, func() bool { return gone("del-0") && rcv.deletedTaken(uid) > 0 }) {
		t.Fatal("del-0 not deleted and announced")
	}
	cleanTook := time.Since(start)
	time.Sleep(time.Second)
	stop()
	n := len(clean.Writes()) - before
	deletionPromisesKept(t, "del-0", uid, "cell-deletions", rcv, clean)
	step := killStep()
	t.Logf("baseline: a clean deletion (with its announcement) takes %d writes and %s; killing at every %d",
		n, cleanTook.Round(time.Millisecond), step)
	for k := 1; k <= n; k += step {
		name := fmt.Sprintf("del-%d", k)
		uid := onboarded(name)
		start := time.Now()
		killed, stopKilled := operator(t, func(p *Proxy) { p.KillAfter(k) })
		deleteTenant(name)
		// An operator that outlived its k writes (k past the deletion's last) is stopped only once
		// it has recorded the delivery: a stop between a delivery and its record is a kill there,
		// which is k's business, not this one's.
		waitUntil(60*time.Second, func() bool {
			return killed.Dead() || (gone(name) && rcv.deletedTaken(uid) > 0 && deliveryRecorded(ctx, "cell-deletions", uid))
		})
		stopKilled()
		next, stopNext := operator(t, nil)
		if !waitUntil(90*time.Second, func() bool { return gone(name) && rcv.deletedTaken(uid) > 0 }) {
			t.Fatalf("%s not deleted and announced after a kill at write %d: %s", name, k, deletionState(ctx, name, uid, rcv))
		}
		deletionPromisesKept(t, name, uid, "cell-deletions", rcv, killed, next)
		stopNext()
		t.Logf("killed at write %d of the deletion: deleted and announced in %s", k, time.Since(start).Round(time.Millisecond))
	}
}
