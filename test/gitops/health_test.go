// Package gitops_test checks what GitOps tools conclude from the status the operator really
// writes: Argo CD's health scripts (config/argocd, run in a Lua interpreter) and kstatus (what
// Flux's health checks and `kubectl wait` use), over Tenants and RegionCells in each state.
package gitops_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// argoHealth runs the Argo CD health script on obj, as Argo CD does: obj is a global table.
func argoHealth(t *testing.T, obj map[string]any) (string, string) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	script := filepath.Join(testenv.Root(), "config", "argocd", "health.lua")
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := L.LoadString(string(src))
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("%s returned %v", script, L.Get(-1))
	}
	return hs.RawGetString("status").String(), hs.RawGetString("message").String()
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(x)
	case bool:
		return lua.LBool(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case nil:
		return lua.LNil
	}
	return lua.LString(fmt.Sprint(v))
}

func asMap(t *testing.T, o runtime.Object) map[string]any {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func kstatus(t *testing.T, m map[string]any) status.Status {
	t.Helper()
	res, err := status.Compute(&unstructured.Unstructured{Object: m})
	if err != nil {
		t.Fatal(err)
	}
	return res.Status
}

func TestArgoCDAndKstatusReadTheOperatorsStatus(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scheme := controllers.NewScheme()
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inprocess.StartOperator(ctx, env.Config, controllers.Options{MaxConcurrentReconciles: 2}, nil); err != nil {
		t.Fatal(err)
	}
	cell, err := testenv.SampleCell()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, cell); err != nil {
		t.Fatal(err)
	}
	newTenant := func(name string) *saasv1.Tenant {
		tn := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: saasv1.TenantSpec{
			DisplayName: name, Region: "eu-west-1", Subdomain: name, AdminEmail: "a@b.example"}}
		if err := c.Create(ctx, tn); err != nil {
			t.Fatal(err)
		}
		return tn
	}
	// waitPhase waits for the phase; for Ready and Suspended also for the operator to be done
	// (Reconciling False: a served tenant's alarms may still be syncing, which kstatus, rightly,
	// calls InProgress).
	waitPhase := func(name, phase string) *saasv1.Tenant {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			got := &saasv1.Tenant{}
			if err := c.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
				t.Fatal(err)
			}
			settled := (phase != saasv1.PhaseReady && phase != saasv1.PhaseSuspended) ||
				!meta.IsStatusConditionTrue(got.Status.Conditions, saasv1.ConditionReconciling)
			if got.Status.Phase == phase && got.Status.ObservedGeneration == got.Generation && settled {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached %s: %+v", name, phase, got.Status)
			}
		}
	}

	// Provisioning: the operator made the DBInstance; nothing plays ACK yet.
	newTenant("waiting")
	provisioning := waitPhase("waiting", saasv1.PhaseProvisioning)

	// Stalled: ACK reports a terminal error.
	newTenant("broken")
	waitPhase("broken", saasv1.PhaseProvisioning)
	db := &rds.DBInstance{}
	if err := testenv.PlayStatus(ctx, c, db, "tenant-broken", "database", func() {
		db.Status.Conditions = testenv.ACKTerminal("InvalidParameterCombination: storage too small")
	}); err != nil {
		t.Fatal(err)
	}
	stalled := waitPhase("broken", saasv1.PhaseFailed)

	// Ready, then Suspended: everything played.
	newTenant("happy")
	playCtx, stopPlay := context.WithCancel(ctx)
	if _, err := testenv.StartPlayer(playCtx, env.Config, testenv.PlayerOptions{}); err != nil {
		t.Fatal(err)
	}
	ready := waitPhase("happy", saasv1.PhaseReady)
	stopPlay()
	// A patch: the operator may have written the tenant's status since it was read.
	suspendedObj := ready.DeepCopy()
	suspendedObj.Spec.Suspended = true
	if err := c.Patch(ctx, suspendedObj, client.MergeFrom(ready)); err != nil {
		t.Fatal(err)
	}
	suspended := waitPhase("happy", saasv1.PhaseSuspended)
	// Just pushed: a spec change the operator has not observed yet.
	pushed := asMap(t, ready)
	pushed["metadata"].(map[string]any)["generation"] = ready.Generation + 1

	readyCell := &saasv1.RegionCell{}
	if err := c.Get(ctx, client.ObjectKey{Name: cell.Name}, readyCell); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		obj     map[string]any
		argo    string
		kstatus status.Status
	}{
		{"provisioning tenant", asMap(t, provisioning), "Progressing", status.InProgressStatus},
		{"stalled tenant", asMap(t, stalled), "Degraded", status.FailedStatus},
		{"ready tenant", asMap(t, ready), "Healthy", status.CurrentStatus},
		{"suspended tenant", asMap(t, suspended), "Suspended", status.CurrentStatus},
		{"spec not yet observed", pushed, "Progressing", status.InProgressStatus},
		// Before the operator writes any status, kstatus cannot tell and says Current (a known
		// kstatus limitation for custom resources); the Argo CD script waits.
		{"new tenant without status", map[string]any{"apiVersion": "saas.tenantops.io/v1alpha1", "kind": "Tenant",
			"metadata": map[string]any{"name": "x", "generation": int64(1)}}, "Progressing", status.CurrentStatus},
		{"cell", asMap(t, readyCell), argoFor(readyCell), kstatusFor(readyCell)},
	}
	for _, tc := range cases {
		got, msg := argoHealth(t, tc.obj)
		if got != tc.argo {
			t.Errorf("%s: Argo CD health %s (%s), want %s", tc.name, got, msg, tc.argo)
		}
		if ks := kstatus(t, tc.obj); ks != tc.kstatus {
			t.Errorf("%s: kstatus %s, want %s", tc.name, ks, tc.kstatus)
		}
	}
	if _, msg := argoHealth(t, asMap(t, stalled)); msg == "" || msg == "nil" {
		t.Error("a Degraded tenant must say why")
	}
}

// The cell's expected health follows its Ready condition, which the operator sets from the
// played cache and shared app.
func argoFor(c *saasv1.RegionCell) string {
	if metaReady(c.Status.Conditions) {
		return "Healthy"
	}
	return "Progressing"
}

func kstatusFor(c *saasv1.RegionCell) status.Status {
	if metaReady(c.Status.Conditions) {
		return status.CurrentStatus
	}
	return status.InProgressStatus
}

func metaReady(conds []metav1.Condition) bool {
	for _, c := range conds {
		if c.Type == saasv1.ConditionReady {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}
