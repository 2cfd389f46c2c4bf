// Package disaster proves a tenant survives the loss of its region: two control planes (a home
// region's and its partner's), each with its own operator and its own stand-in for ACK, and one
// AWS-protocol server (moto) playing the AWS both regions share. The home operator copies the
// tenant's database to the partner region; the home region is lost (its operator stopped); the
// partner takes the tenant over from Git's point of view (a Tenant applied there), restores the
// newest copy and claims the tenant in the fencing record; the home region comes back with its
// old objects and stands down, deleting nothing.
package disaster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsrds "github.com/aws/aws-sdk-go-v2/service/rds"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/recovery/awscw"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsfence"
	recoveryrds "github.com/tenantops/tenant-operator/controllers/recovery/awsrds"
	"github.com/tenantops/tenant-operator/controllers/verdict"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

const (
	home, partner = "us-east-2", "us-west-1"
	interval      = 10 * time.Second
)

// moto is the AWS of the test running: each test starts its own (tests run one at a time).
var moto *testsvc.Moto

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	os.Exit(m.Run())
}

// region is one region's control plane: its API server, its ACK stand-in acting on moto, and
// its operator, which can be stopped (the region lost) and started again.
type region struct {
	name string
	env  *testenv.Env
	k8s  client.Client
	stop func()
	// fences, when set, wraps the operator's fencing records (a fault played between the claim
	// and what follows it).
	fences func(recovery.Fences) recovery.Fences
	// promoted records the standbys this region's operator promoted: moto's promotion leaves a
	// replica looking as it was (its source still named), so the test watches the call itself.
	promoted *promotions
}

// promotions counts the standby promotions an operator asked of RDS.
type promotions struct {
	recovery.Standbys
	mu  sync.Mutex
	ids []string
}

func (p *promotions) Promote(ctx context.Context, region, id string) error {
	p.mu.Lock()
	p.ids = append(p.ids, region+"/"+id)
	p.mu.Unlock()
	return p.Standbys.Promote(ctx, region, id)
}

func (p *promotions) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ids...)
}

func startRegion(t *testing.T, name string, rdsCreateTime time.Duration) *region {
	t.Helper()
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	k, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// ACK in this region, playing its part against moto: a DBInstance is made there (restored
	// from the snapshot it names, as ACK's rds-controller restores), then reported available.
	_, err = testenv.StartPlayer(ctx, env.Config, testenv.PlayerOptions{RDSCreateTime: rdsCreateTime, RDSCreated: testenv.MakeInMoto(moto, name), Region: name})
	if err != nil {
		t.Fatal(err)
	}
	r := &region{name: name, env: env, k8s: k, promoted: &promotions{Standbys: &recoveryrds.Client{Config: moto.Config(), EndpointURL: moto.URL}}}
	r.start(t)
	return r
}

// start runs the region's operator: as main.go wires it, with moto for RDS and Route53.
func (r *region) start(t *testing.T) {
	t.Helper()
	jur, err := recovery.ParseJurisdictions("us=" + home + "," + partner)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	skip := true
	var fences recovery.Fences = &awsfence.Client{Config: moto.Config(), EndpointURL: moto.URL}
	if r.fences != nil {
		fences = r.fences(fences)
	}
	stopped, err := inprocess.StartOperator(ctx, r.env.Config, controllers.Options{
		MaxConcurrentReconciles: 2, Jurisdictions: jur,
		Copier:   &recoveryrds.Client{Config: moto.Config(), EndpointURL: moto.URL},
		Fences:   fences,
		Standbys: r.promoted,
		Lag:      &awscw.Client{Config: moto.Config(), EndpointURL: moto.URL},
		// RDS publishes a replica's lag each minute; the played RDS publishes when told.
		StandbyLagPoll: 200 * time.Millisecond,
	}, func(o *ctrl.Options) { o.Controller.SkipNameValidation = &skip })
	if err != nil {
		t.Fatal(err)
	}
	r.stop = func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(time.Minute):
			t.Error("an operator did not stop within a minute")
		}
	}
	t.Cleanup(func() { r.stop() })
}

func (r *region) tenant(t *testing.T, name string) *saasv1.Tenant {
	t.Helper()
	tn := &saasv1.Tenant{}
	if err := r.k8s.Get(context.Background(), client.ObjectKey{Name: name}, tn); err != nil {
		t.Fatal(err)
	}
	return tn
}

func (r *region) waitFor(t *testing.T, within time.Duration, what string, check func(tn *saasv1.Tenant) error) *saasv1.Tenant {
	t.Helper()
	var last error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		tn := &saasv1.Tenant{}
		if last = r.k8s.Get(context.Background(), client.ObjectKey{Name: "acme"}, tn); last == nil {
			if last = check(tn); last == nil {
				return tn
			}
		}
	}
	var evs corev1.EventList
	_ = r.k8s.List(context.Background(), &evs)
	var seen []string
	for _, e := range evs.Items {
		seen = append(seen, e.Reason+": "+e.Message)
	}
	t.Fatalf("%s: %s not within %s: %v\nevents there:\n%s", r.name, what, within, last, strings.Join(seen, "\n"))
	return nil
}

// events is a webhook receiver: the CloudEvents a region's cell sends, by type (signatures are
// the lifecycle tests' business).
type events struct {
	mu     sync.Mutex
	byType map[string][]notify.Event
}

func (e *events) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var ev notify.Event
	if err := json.NewDecoder(req.Body).Decode(&ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.byType[ev.Type] = append(e.byType[ev.Type], ev)
	e.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (e *events) of(typ string) []notify.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]notify.Event(nil), e.byType[typ]...)
}

func cellIn(t *testing.T, r *region, name, zoneID, keyARN, partnerRegion string, rcv *events) {
	t.Helper()
	c, err := testenv.SampleCell()
	if err != nil {
		t.Fatal(err)
	}
	c.Name, c.Spec.Region, c.Spec.HostedZoneID, c.ResourceVersion = name, r.name, zoneID, ""
	c.Spec.Database.WarmPool = nil
	c.Spec.Notifications = nil
	if rcv != nil {
		srv := httptest.NewServer(rcv)
		t.Cleanup(srv.Close)
		ns := "notify-" + name
		for _, o := range []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hmac"}, Data: map[string][]byte{"key": []byte("k")}}} {
			if err := r.k8s.Create(context.Background(), o); err != nil {
				t.Fatal(err)
			}
		}
		c.Spec.Notifications = &saasv1.Notifications{Webhooks: []saasv1.Webhook{{Name: "crm", URL: srv.URL + "/crm"}},
			HMACSecretRef: &saasv1.SecretKeyRef{Namespace: ns, Name: "hmac", Key: "key"}}
	}
	c.Spec.DisasterRecovery = &saasv1.CellDisasterRecovery{PartnerRegion: partnerRegion, KMSKeyID: keyARN, CopyInterval: interval.String(), RetainCopies: 3}
	if err := r.k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func kmsKey(t *testing.T, region string) string {
	t.Helper()
	key, err := moto.KMSKey(context.Background(), region)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func cond(tn *saasv1.Tenant, typ string) metav1.Condition {
	return verdict.Condition(tn.Status.Conditions, typ)
}

// world is the two regions with one tenant served at home and copied to the partner.
type world struct {
	east, west *region
	// westEvents are the CloudEvents the partner's cell sends.
	westEvents *events
	zoneID     string
	homeDB     string
	fences     *awsfence.Client
	fenceName  string
}

// homeServes sets up both regions and a tenant acme served at home with a first copy in the
// partner region; the partner's RDS restores in restore.
func homeServes(t *testing.T, restore time.Duration, tenant ...func(*saasv1.Tenant)) *world {
	t.Helper()
	ctx := context.Background()
	var err error
	if moto, err = testsvc.StartMoto(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	// What the platform engineer made in AWS: a hosted zone both regions' cells name, and in
	// each region a KMS key for the copies it receives.
	zoneID, err := moto.HostedZone(ctx, "website.com")
	if err != nil {
		t.Fatal(err)
	}
	homeKey, partnerKey := kmsKey(t, home), kmsKey(t, partner)

	east, west := startRegion(t, home, 0), startRegion(t, partner, restore)
	westEvents := &events{byType: map[string][]notify.Event{}}
	cellIn(t, east, "east-a", zoneID, partnerKey, partner, nil)
	cellIn(t, west, "west-a", zoneID, homeKey, home, westEvents)

	// The tenant, served at home; its copies reach the partner region.
	acme := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{
		DisplayName: "Acme", Region: home, Subdomain: "acme", AdminEmail: "it@acme.example"}}
	for _, f := range tenant {
		f(acme)
	}
	if err := east.k8s.Create(ctx, acme); err != nil {
		t.Fatal(err)
	}
	served := east.waitFor(t, 2*time.Minute, "Ready with a recovery point", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseReady || tn.Status.RecoveryPoint == nil {
			return fmt.Errorf("phase %s (%s), recovery point %v, %s", tn.Status.Phase, cond(tn, saasv1.ConditionReady).Message, tn.Status.RecoveryPoint, cond(tn, saasv1.ConditionDisasterRecoveryReady).Message)
		}
		return nil
	})
	w := &world{east: east, west: west, westEvents: westEvents, zoneID: zoneID, homeDB: served.Status.EffectiveDatabase.Identifier,
		fences: &awsfence.Client{Config: moto.Config(), EndpointURL: moto.URL}, fenceName: recovery.FenceName("acme.website.com")}
	if f, err := w.fences.Read(ctx, zoneID, w.fenceName); err != nil || f == nil || f.Region != home || f.Epoch != 1 {
		t.Fatalf("the fencing record once the first copy is there: %+v (%v)", f, err)
	}
	return w
}

func TestATenantSurvivesTheLossOfItsRegion(t *testing.T) {
	ctx := context.Background()
	w := homeServes(t, 0)
	east, west, zoneID, homeDB, fences, fenceName := w.east, w.west, w.zoneID, w.homeDB, w.fences, w.fenceName

	// The home region is lost: its operator stops, its copies stop.
	east.stop()
	lost := time.Now()

	// The failover, applied in the partner region's cluster. The home region copied the tenant
	// moments ago, a sign it may still serve: refused without force, until that copy is two
	// intervals old.
	takeover := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{
		DisplayName: "Acme", Region: partner, Subdomain: "acme", AdminEmail: "it@acme.example",
		RestoreFrom: &saasv1.RestoreSource{FailoverFrom: home}}}
	applied := time.Now()
	if err := west.k8s.Create(ctx, takeover); err != nil {
		t.Fatal(err)
	}
	west.waitFor(t, 30*time.Second, "the failover refused while the home's copy is fresh", func(tn *saasv1.Tenant) error {
		if c := cond(tn, saasv1.ConditionDatabaseReady); c.Reason != "HomeStillServing" || !strings.Contains(c.Message, "spec.restoreFrom.force") {
			return fmt.Errorf("DatabaseReady %s: %s", c.Reason, c.Message)
		}
		return nil
	})
	if err := west.k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-acme", Name: b.DBInstanceName}, &rds.DBInstance{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a refused failover made a database: %v", err)
	}
	takenOver := west.waitFor(t, 3*interval+time.Minute, "Ready from the newest copy", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseReady || tn.Status.RestoredFrom == nil {
			return fmt.Errorf("phase %s, restored from %v; %s", tn.Status.Phase, tn.Status.RestoredFrom, cond(tn, saasv1.ConditionReady).Message)
		}
		return nil
	})
	readyAt := time.Now()
	rf := takenOver.Status.RestoredFrom
	copies, err := (&recoveryrds.Client{Config: moto.Config(), EndpointURL: moto.URL}).List(ctx, partner, homeDB, recovery.SnapshotPrefix(homeDB))
	if err != nil || recovery.Newest(copies) == nil || rf.SnapshotIdentifier != recovery.Newest(copies).ID || rf.Region != home || rf.Epoch != 2 {
		t.Fatalf("restored from %+v; the partner's copies %+v (%v)", rf, copies, err)
	}
	// The database was made from that copy, in the partner region.
	db := &rds.DBInstance{}
	if err := west.k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-acme", Name: b.DBInstanceName}, db); err != nil || db.Spec.DBSnapshotIdentifier == nil || *db.Spec.DBSnapshotIdentifier != rf.SnapshotIdentifier {
		t.Fatalf("the partner's DBInstance: %+v (%v)", db.Spec, err)
	}
	if d, err := moto.RDS(partner).DescribeDBInstances(ctx, &awsrds.DescribeDBInstancesInput{DBInstanceIdentifier: db.Spec.DBInstanceIdentifier}); err != nil || len(d.DBInstances) != 1 {
		t.Fatalf("the restored instance in %s: %v", partner, err)
	}
	if f, err := fences.Read(ctx, zoneID, fenceName); err != nil || f.Region != partner || f.Epoch != 2 {
		t.Fatalf("the fencing record after the takeover: %+v (%v)", f, err)
	}
	// Billing and CRM hear of the takeover, and the Ready that follows says where from.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(w.westEvents.of("io.tenantops.tenant.ready")) == 0; time.Sleep(100 * time.Millisecond) {
	}
	over, ready := w.westEvents.of(notify.TypeFailedOver), w.westEvents.of("io.tenantops.tenant.ready")
	if len(over) == 0 || !strings.Contains(over[0].Data.Message, "taken over from "+home) || len(ready) != 1 || !strings.Contains(ready[0].Data.Message, "failed over from "+home) {
		t.Errorf("the partner's CloudEvents: failedover %+v, ready %+v", over, ready)
	}
	rs := &route53.RecordSet{}
	if err := west.k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-acme", Name: b.RecordSetName}, rs); err != nil {
		t.Fatalf("the partner does not hold the tenant's DNS record: %v", err)
	}
	// The refusal lapses once the copy is two intervals old; from then on the time is the
	// operator's own (RDS's restore is played at once here).
	lapsed := rf.SnapshotTime.Add(2 * interval)
	t.Logf("RTO: the failover Tenant applied to Ready in %s, of which %s waiting for the home's newest copy to be two intervals old and %s the operator's own; RPO: the copy restored was taken %s before the loss",
		readyAt.Sub(applied).Round(time.Millisecond), lapsed.Sub(applied).Round(time.Millisecond), readyAt.Sub(lapsed).Round(time.Millisecond),
		lost.Sub(rf.SnapshotTime.Time).Round(time.Second))

	// The home region comes back with its old objects, before anyone changed Git there: its
	// operator reads the fencing record and stands down, deleting nothing.
	east.start(t)
	stood := east.waitFor(t, time.Minute, "stood down", func(tn *saasv1.Tenant) error {
		c := cond(tn, saasv1.ConditionDisasterRecoveryReady)
		if tn.Status.Phase != saasv1.PhaseFailedOver || tn.Status.ServedFrom != partner || c.Reason != "FailedOver" || !strings.Contains(c.Message, partner) {
			return fmt.Errorf("phase %s served from %q; DisasterRecoveryReady %s: %s", tn.Status.Phase, tn.Status.ServedFrom, c.Reason, c.Message)
		}
		return nil
	})
	if s := cond(stood, saasv1.ConditionStalled); s.Status != metav1.ConditionTrue || s.Reason != "FailedOver" {
		t.Errorf("Stalled %+v", s)
	}
	// It serves nothing: the shared app's configuration says suspended, the DNS record is let go
	// (ACK told to retain it: it is the partner's now), and the database is where it was.
	cfg := &corev1.Secret{}
	if err := east.k8s.Get(ctx, client.ObjectKey{Namespace: "cell-east-a", Name: b.ConfigSecretName(stood)}, cfg); err != nil || string(cfg.Data[saasv1.ConfigSuspended]) != "true" {
		t.Errorf("the home's app configuration for acme: %v (%v)", cfg.Data[saasv1.ConfigSuspended], err)
	}
	waitGone(t, east, &route53.RecordSet{}, "tenant-acme", b.RecordSetName)
	if err := east.k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-acme", Name: b.DBInstanceName}, &rds.DBInstance{}); err != nil {
		t.Errorf("the home's DBInstance: %v", err)
	}
	if d, err := moto.RDS(home).DescribeDBInstances(ctx, &awsrds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(homeDB)}); err != nil || len(d.DBInstances) != 1 {
		t.Errorf("the home's database in %s: %v", home, err)
	}
	if f, _ := fences.Read(ctx, zoneID, fenceName); f.Region != partner || f.Epoch != 2 {
		t.Errorf("the home region's return changed the fencing record: %+v", f)
	}
	// The partner keeps serving, and copies the tenant back to the home region (its cell's
	// partner): what a failback restores.
	west.waitFor(t, time.Minute, "copying back home", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseReady || tn.Status.RecoveryPoint == nil || tn.Status.RecoveryPoint.Region != home {
			return fmt.Errorf("phase %s, recovery point %+v", tn.Status.Phase, tn.Status.RecoveryPoint)
		}
		return nil
	})

	// Failing back, as the runbook says: the home's stood-down Tenant is deleted (its deletion
	// policy applies to the home's old copy of the data), then applied again taking the tenant
	// over from the partner. The epoch goes up; the partner stands down.
	if err := east.k8s.Delete(ctx, stood); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if err := east.k8s.Get(ctx, client.ObjectKey{Name: "acme"}, &saasv1.Tenant{}); apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the home's stood-down tenant was not deleted within a minute")
		}
	}
	if f, _ := fences.Read(ctx, zoneID, fenceName); f.Region != partner {
		t.Fatalf("deleting the stood-down tenant changed the fencing record: %+v", f)
	}
	playNamespaceController(t, east, "tenant-acme")
	if err := east.k8s.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{
		DisplayName: "Acme", Region: home, Subdomain: "acme", AdminEmail: "it@acme.example",
		RestoreFrom: &saasv1.RestoreSource{FailoverFrom: partner, Force: true}}}); err != nil {
		t.Fatal(err)
	}
	back := east.waitFor(t, time.Minute, "failed back", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseReady || tn.Status.RestoredFrom == nil {
			return fmt.Errorf("phase %s; %s", tn.Status.Phase, cond(tn, saasv1.ConditionReady).Message)
		}
		return nil
	})
	if rf := back.Status.RestoredFrom; rf.Region != partner || rf.Epoch != 3 {
		t.Errorf("failed back from %+v, want from %s under epoch 3", rf, partner)
	}
	west.waitFor(t, time.Minute, "stood down after the failback", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseFailedOver || tn.Status.ServedFrom != home {
			return fmt.Errorf("phase %s served from %q", tn.Status.Phase, tn.Status.ServedFrom)
		}
		return nil
	})
	if f, _ := fences.Read(ctx, zoneID, fenceName); f.Region != home || f.Epoch != 3 {
		t.Errorf("the fencing record after the failback: %+v", f)
	}
}

// playNamespaceController does what kube-controller-manager's namespace controller would for a
// namespace being deleted (envtest runs none): deletes what is left in it, then finalizes it, so
// that a Tenant of the same name can be made again.
func playNamespaceController(t *testing.T, r *region, name string) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}, &corev1.ServiceAccount{}, &corev1.Service{},
		&corev1.ResourceQuota{}, &corev1.LimitRange{}, &batchv1.Job{}, &batchv1.CronJob{}, &appsv1.Deployment{},
		&networkingv1.NetworkPolicy{}, &networkingv1.Ingress{}, &rbacv1.Role{}, &rbacv1.RoleBinding{},
		&rds.DBInstance{}, &route53.RecordSet{}, &cloudwatch.MetricAlarm{}} {
		if err := r.k8s.DeleteAllOf(ctx, obj, client.InNamespace(name)); err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("played namespace controller: deleting %T in %s: %v", obj, name, err)
		}
	}
	ns := &corev1.Namespace{}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := r.k8s.Get(ctx, client.ObjectKey{Name: name}, ns); apierrors.IsNotFound(err) {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if ns.DeletionTimestamp != nil {
			ns.Spec.Finalizers = nil
			if err := r.k8s.SubResource("finalize").Update(ctx, ns); err != nil && !apierrors.IsConflict(err) {
				t.Fatalf("played namespace controller: finalizing %s: %v", name, err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still there: %+v", name, ns.Status)
		}
	}
}

func waitGone(t *testing.T, r *region, obj client.Object, ns, name string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := r.k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); apierrors.IsNotFound(err) {
			return
		}
	}
	t.Errorf("%s: %T %s/%s still there", r.name, obj, ns, name)
}

// lostAfterClaim plays the operator dying the moment its claim reached Route53: the claim is
// made, and what the operator does next (recording it in status) is lost with it.
type lostAfterClaim struct {
	recovery.Fences
	lost atomic.Bool
}

func (l *lostAfterClaim) Claim(ctx context.Context, zoneID, name string, prev *recovery.Fence, next recovery.Fence) error {
	if err := l.Fences.Claim(ctx, zoneID, name, prev, next); err != nil {
		return err
	}
	if l.lost.CompareAndSwap(false, true) {
		return errors.New("played: the operator died after its claim reached Route53")
	}
	return nil
}

// Faults during a failover: the partner's operator dies right after it claimed the tenant in
// the fencing record, before it recorded the claim, and is started again; the home region comes
// back while the partner restores. The partner finishes under the epoch it claimed, once (one
// database, no second claim); the home stands down.
func TestAFailoverSurvivesItsOperatorKilledAndTheHomeReturning(t *testing.T) {
	ctx := context.Background()
	w := homeServes(t, 5*time.Second) // the partner's RDS takes 5 s to restore: the home returns meanwhile
	lost := &lostAfterClaim{}
	w.west.stop()
	w.west.fences = func(f recovery.Fences) recovery.Fences { lost.Fences = f; return lost }
	w.west.start(t)
	w.east.stop()
	if err := w.west.k8s.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{
		DisplayName: "Acme", Region: partner, Subdomain: "acme", AdminEmail: "it@acme.example",
		RestoreFrom: &saasv1.RestoreSource{FailoverFrom: home, Force: true}}}); err != nil {
		t.Fatal(err)
	}
	// Killed the moment the claim is in Route53.
	claimed := false
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && !claimed; time.Sleep(10 * time.Millisecond) {
		f, err := w.fences.Read(ctx, w.zoneID, w.fenceName)
		claimed = err == nil && f != nil && f.Epoch == 2
	}
	if !claimed {
		t.Fatal("the partner never claimed the tenant")
	}
	w.west.stop()
	if tn := w.west.tenant(t, "acme"); !lost.lost.Load() || tn.Status.RestoredFrom != nil && tn.Status.RestoredFrom.Epoch != 2 {
		t.Fatalf("the claim's loss was not played (%v), or recorded under another epoch: %+v", lost.lost.Load(), tn.Status.RestoredFrom)
	}
	w.west.fences = nil

	// The home comes back during the failover, the partner's operator with it.
	w.east.start(t)
	w.west.start(t)
	w.east.waitFor(t, time.Minute, "stood down", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseFailedOver || tn.Status.ServedFrom != partner {
			return fmt.Errorf("phase %s served from %q", tn.Status.Phase, tn.Status.ServedFrom)
		}
		return nil
	})
	done := w.west.waitFor(t, time.Minute, "Ready", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseReady || tn.Status.RestoredFrom == nil {
			return fmt.Errorf("phase %s, %s", tn.Status.Phase, cond(tn, saasv1.ConditionReady).Message)
		}
		return nil
	})
	if done.Status.RestoredFrom.Epoch != 2 {
		t.Errorf("restored under epoch %d, want the one claimed before the kill (2)", done.Status.RestoredFrom.Epoch)
	}
	if f, _ := w.fences.Read(ctx, w.zoneID, w.fenceName); f.Region != partner || f.Epoch != 2 {
		t.Errorf("fence %+v: claimed again", f)
	}
	var dbs rds.DBInstanceList
	if err := w.west.k8s.List(ctx, &dbs); err != nil || len(dbs.Items) != 1 {
		t.Errorf("the partner's DBInstances: %d (%v)", len(dbs.Items), err)
	}
	out, err := moto.RDS(partner).DescribeDBInstances(ctx, &awsrds.DescribeDBInstancesInput{})
	if err != nil || len(out.DBInstances) != 1 {
		t.Errorf("instances in %s: %d (%v)", partner, len(out.DBInstances), err)
	}
}

// The home region comes back with the tenant's deletion already asked for there (someone removed
// it from the home's Git while the region was down). Its deletion must not delete the tenant's
// DNS record, which the partner serves it under now: ACK is told to retain it first.
func TestAHomeDeletionAfterAFailoverLetsGoOfTheRecord(t *testing.T) {
	ctx := context.Background()
	w := homeServes(t, 0)
	w.east.stop()
	if err := w.west.k8s.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{
		DisplayName: "Acme", Region: partner, Subdomain: "acme", AdminEmail: "it@acme.example",
		RestoreFrom: &saasv1.RestoreSource{FailoverFrom: home, Force: true}}}); err != nil {
		t.Fatal(err)
	}
	w.west.waitFor(t, time.Minute, "Ready", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseReady {
			return fmt.Errorf("phase %s", tn.Status.Phase)
		}
		return nil
	})
	// In the home cluster, while its operator is down: ACK's finalizer on the record (it holds
	// the RecordSet until it has dealt with Route53), and the tenant's deletion.
	rs := &route53.RecordSet{}
	key := client.ObjectKey{Namespace: "tenant-acme", Name: b.RecordSetName}
	if err := w.east.k8s.Get(ctx, key, rs); err != nil {
		t.Fatal(err)
	}
	orig := rs.DeepCopy()
	rs.Finalizers = append(rs.Finalizers, "finalizers.route53.services.k8s.aws/RecordSet")
	if err := w.east.k8s.Patch(ctx, rs, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	if err := w.east.k8s.Delete(ctx, w.east.tenant(t, "acme")); err != nil {
		t.Fatal(err)
	}
	w.east.start(t)
	var last error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if last = w.east.k8s.Get(ctx, key, rs); last != nil {
			continue
		}
		if rs.DeletionTimestamp != nil {
			break
		}
	}
	if rs.DeletionTimestamp == nil || rs.Annotations["services.k8s.aws/deletion-policy"] != "retain" {
		t.Fatalf("the home's RecordSet: deleting %v, annotations %v (%v); ACK would delete the partner's record", rs.DeletionTimestamp, rs.Annotations, last)
	}
	if f, _ := w.fences.Read(ctx, w.zoneID, w.fenceName); f.Region != partner {
		t.Errorf("fence %+v", f)
	}
}
