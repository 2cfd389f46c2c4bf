package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
)

// Unit tests of the pure decisions the reconcilers take; the envtest suites show them at work.

func at(name string, minute int, mutate ...func(*saasv1.Tenant)) saasv1.Tenant {
	t := newTenant(name, "eu-west-1")
	t.UID = types.UID(name)
	t.CreationTimestamp = metav1.NewTime(time.Date(2026, 11, 30, 10, minute, 0, 0, time.UTC))
	for _, m := range mutate {
		m(t)
	}
	return *t
}

func admittedTo(cell string) func(*saasv1.Tenant) {
	return func(t *saasv1.Tenant) { t.Status.Cell = cell }
}

func TestAdmission(t *testing.T) {
	cell := newCell("c1", "eu-west-1", func(c *saasv1.RegionCell) { c.Spec.Capacity.MaxTenants = 2 })
	subdomain := func(s string) func(*saasv1.Tenant) { return func(t *saasv1.Tenant) { t.Spec.Subdomain = s } }
	deleting := func(t *saasv1.Tenant) { now := metav1.Now(); t.DeletionTimestamp = &now }
	otherRegion := func(t *saasv1.Tenant) { t.Spec.Region = "us-east-1" }
	cases := []struct {
		name   string
		tenant saasv1.Tenant
		others []saasv1.Tenant
		want   admissionDecision
	}{
		{"room in the cell", at("new", 5), []saasv1.Tenant{at("a", 1, admittedTo("c1"))}, admissionDecision{}},
		{"full cell", at("new", 5), []saasv1.Tenant{at("a", 1, admittedTo("c1")), at("b", 2, admittedTo("c1"))}, admissionDecision{cellFull: true}},
		{"an admitted tenant stays when the cell fills", at("b", 2, admittedTo("c1")), []saasv1.Tenant{at("a", 1, admittedTo("c1")), at("c", 3, admittedTo("c1"))}, admissionDecision{}},
		{"older waiting tenants go first", at("new", 5), []saasv1.Tenant{at("a", 1, admittedTo("c1")), at("old", 3)}, admissionDecision{cellFull: true}},
		{"younger waiting tenants do not count", at("new", 5), []saasv1.Tenant{at("a", 1, admittedTo("c1")), at("young", 7)}, admissionDecision{}},
		{"deleting tenants and other regions do not count", at("new", 5),
			[]saasv1.Tenant{at("a", 1, admittedTo("c1")), at("b", 2, admittedTo("c1"), deleting), at("x", 1, admittedTo("c2"), otherRegion)}, admissionDecision{}},
		{"an older tenant holds the subdomain", at("new", 5, subdomain("acme")), []saasv1.Tenant{at("a", 1, subdomain("acme"))}, admissionDecision{subdomainOwner: "a"}},
		{"an admitted tenant holds the subdomain whatever its age", at("old", 1, subdomain("acme")),
			[]saasv1.Tenant{at("b", 5, subdomain("acme"), admittedTo("c1"))}, admissionDecision{subdomainOwner: "b"}},
		{"the tenant itself is no rival", at("new", 5, subdomain("acme")), []saasv1.Tenant{at("new", 5, subdomain("acme"))}, admissionDecision{}},
	}
	for _, c := range cases {
		tn := c.tenant
		if got := admission(&tn, cell, append(c.others, tn)); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	parts := []string{saasv1.ConditionDatabaseReady, saasv1.ConditionAppReady}
	cases := []struct {
		name                     string
		verdict                  verdict
		phase                    string
		ready, reconciling, stll metav1.ConditionStatus
		readyReason              string
	}{
		{"every part ready", verdict{parts: []part{ready(parts[0], "Available", ""), ready(parts[1], "Serving", "")}},
			saasv1.PhaseReady, "True", "False", "False", "Ready"},
		{"a part waiting", verdict{parts: []part{ready(parts[0], "Available", ""), waiting(parts[1], "RollingOut", "1 of 2")}},
			saasv1.PhaseProvisioning, "False", "True", "False", "RollingOut"},
		{"a part stalled wins over one waiting", verdict{parts: []part{stalled(parts[0], "ACKTerminal", "no"), waiting(parts[1], "RollingOut", "")}},
			saasv1.PhaseFailed, "False", "False", "True", "ACKTerminal"},
		{"a part not reported yet", verdict{parts: []part{ready(parts[0], "Available", "")}},
			saasv1.PhaseProvisioning, "False", "True", "False", ""},
	}
	for _, c := range cases {
		var conds []metav1.Condition
		phase := summarize(&conds, 3, parts, c.verdict)
		r, rec, st := findCondition(conds, saasv1.ConditionReady), findCondition(conds, saasv1.ConditionReconciling), findCondition(conds, saasv1.ConditionStalled)
		got := fmt.Sprint(phase, " ", r.Status, rec.Status, st.Status, " ", r.ObservedGeneration)
		want := fmt.Sprint(c.phase, " ", c.ready, c.reconciling, c.stll, " ", 3)
		if got != want || (c.readyReason != "" && r.Reason != c.readyReason) {
			t.Errorf("%s: got %s (Ready reason %s), want %s (%s)", c.name, got, r.Reason, want, c.readyReason)
		}
	}
}

func TestReadACKState(t *testing.T) {
	cond := func(typ ackv1alpha1.ConditionType, s corev1.ConditionStatus, msg string) *ackv1alpha1.Condition {
		return &ackv1alpha1.Condition{Type: typ, Status: s, Message: &msg}
	}
	synced := cond(ackv1alpha1.ConditionTypeResourceSynced, corev1.ConditionTrue, "")
	notSynced := cond(ackv1alpha1.ConditionTypeResourceSynced, corev1.ConditionFalse, "creating")
	terminal := cond(ackv1alpha1.ConditionTypeTerminal, corev1.ConditionTrue, "InvalidParameter")
	recoverable := cond(ackv1alpha1.ConditionTypeRecoverable, corev1.ConditionTrue, "Throttling")
	cases := []struct {
		name  string
		conds []*ackv1alpha1.Condition
		want  string
	}{
		{"nothing reported", nil, "false false WaitingForACK"},
		{"synced", []*ackv1alpha1.Condition{synced}, "true false ACKSynced"},
		{"not synced", []*ackv1alpha1.Condition{notSynced}, "false false ACKNotSynced creating"},
		{"terminal wins over synced", []*ackv1alpha1.Condition{synced, terminal}, "false true ACKTerminal InvalidParameter"},
		{"recoverable wins over synced", []*ackv1alpha1.Condition{synced, recoverable}, "false false ACKRecoverable Throttling"},
		{"terminal wins over recoverable", []*ackv1alpha1.Condition{recoverable, terminal}, "false true ACKTerminal InvalidParameter"},
		{"a quota refusal, retried by ACK, needs a person and names the quota", []*ackv1alpha1.Condition{notSynced,
			cond(ackv1alpha1.ConditionTypeRecoverable, corev1.ConditionTrue, "InstanceQuotaExceeded: DB instance quota exceeded")},
			"false true QuotaExceeded AWS refused for the quota RDS DB instances per region (default 40); raise it (Service Quotas: Amazon RDS, DB instances)"},
		{"ElastiCache nodes", []*ackv1alpha1.Condition{cond(ackv1alpha1.ConditionTypeTerminal, corev1.ConditionTrue, "NodeQuotaForCustomerExceeded: ...")},
			"false true QuotaExceeded AWS refused for the quota ElastiCache nodes per region"},
	}
	for _, c := range cases {
		st := ack.ReadState(c.conds)
		got := strings.TrimSpace(fmt.Sprint(st.Synced, " ", st.Terminal, " ", st.Reason, " ", st.Message))
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	now := time.Now()
	stamped := func(at time.Time) []*ackv1alpha1.Condition {
		c := *synced
		c.LastTransitionTime = &metav1.Time{Time: at}
		return []*ackv1alpha1.Condition{&c}
	}
	if ack.SyncedSince(stamped(now.Add(-time.Minute)), now) || !ack.SyncedSince(stamped(now.Add(time.Second)), now) {
		t.Error("SyncedSince: a synced condition stamped before the change must not count, one stamped after must")
	}
}

func TestRolloutTarget(t *testing.T) {
	cell := newCell("c1", "eu-west-1")
	cell.Spec.App.Version = "1.1.0"
	cell.Status.AppVersion = "1.0.0"
	migrated := func(v string, ok bool) func(*saasv1.Tenant) {
		return func(t *saasv1.Tenant) { t.Status.LastMigration = &saasv1.MigrationStatus{Version: v, Succeeded: ok} }
	}
	pinned := func(t *saasv1.Tenant) {
		t.Spec.App = &saasv1.TenantApp{Version: "1.0.0", UpgradeStrategy: saasv1.UpgradeManual}
	}
	dedicated := func(t *saasv1.Tenant) { t.Spec.Tier = saasv1.TierDedicated }
	cases := []struct {
		name            string
		tenants         []saasv1.Tenant
		version, reason string
	}{
		{"every Auto tenant migrated", []saasv1.Tenant{at("a", 1, migrated("1.1.0", true)), at("p", 2, pinned, migrated("1.0.0", true))}, "1.1.0", "UpToDate"},
		{"one still migrating", []saasv1.Tenant{at("a", 1, migrated("1.1.0", true)), at("b", 2, migrated("1.0.0", true))}, "1.0.0", "Migrating"},
		{"one failed", []saasv1.Tenant{at("a", 1, migrated("1.1.0", false))}, "1.0.0", "MigrationFailed"},
		{"dedicated tenants do not hold the shared app", []saasv1.Tenant{at("d", 1, dedicated, migrated("1.0.0", true))}, "1.1.0", "UpToDate"},
	}
	for _, c := range cases {
		version, p := rolloutTarget(cell, c.tenants)
		if version != c.version || p.Reason != c.reason {
			t.Errorf("%s: got %s %s, want %s %s (%s)", c.name, version, p.Reason, c.version, c.reason, p.Message)
		}
	}
}

func TestIngressRoutes(t *testing.T) {
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "*.website.com"}, {Host: "own.example.org"}}}}
	for host, want := range map[string]bool{
		"acme.website.com": true, "own.example.org": true, "a.b.website.com": false, "website.com": false,
		"acme.website.com.evil.org": false, "acmewebsite.com": false, "other.example.org": false,
	} {
		if got := ingressRoutes(ing, host); got != want {
			t.Errorf("%s: got %v, want %v", host, got, want)
		}
	}
}
