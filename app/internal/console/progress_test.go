package console

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func withConditions(phase string, conds map[string]metav1.ConditionStatus, msgs ...string) *saasv1.Tenant {
	t := &saasv1.Tenant{Status: saasv1.TenantStatus{Phase: phase}}
	for typ, st := range conds {
		c := metav1.Condition{Type: typ, Status: st, Reason: "R"}
		if typ == saasv1.ConditionStalled && len(msgs) > 0 {
			c.Message = msgs[0]
		}
		t.Status.Conditions = append(t.Status.Conditions, c)
	}
	return t
}

func states(v View) string {
	var s []string
	for _, st := range v.Steps {
		s = append(s, st.State)
	}
	return strings.Join(s, ",")
}

func TestProgress(t *testing.T) {
	T, F := metav1.ConditionTrue, metav1.ConditionFalse
	cases := []struct {
		name   string
		t      *saasv1.Tenant
		states string
		ready  bool
		failed bool
	}{
		{"just created", &saasv1.Tenant{}, "working,waiting,waiting,waiting,waiting", false, false},
		{"the database made", withConditions(saasv1.PhaseProvisioning, map[string]metav1.ConditionStatus{saasv1.ConditionDatabaseReady: T, saasv1.ConditionCacheReady: F}),
			"done,working,waiting,waiting,waiting", false, false},
		{"ready", func() *saasv1.Tenant {
			t := withConditions(saasv1.PhaseReady, map[string]metav1.ConditionStatus{saasv1.ConditionDatabaseReady: T, saasv1.ConditionCacheReady: T,
				saasv1.ConditionMigrationsComplete: T, saasv1.ConditionAppReady: T, saasv1.ConditionDNSReady: T})
			t.Status.URL = "https://acme.website.com"
			return t
		}(), "done,done,done,done,done", true, false},
		{"failed at the database", withConditions(saasv1.PhaseFailed, map[string]metav1.ConditionStatus{saasv1.ConditionDatabaseReady: F,
			saasv1.ConditionStalled: T}, "RDS: quota exceeded"), "failed,waiting,waiting,waiting,waiting", false, true},
	}
	for _, c := range cases {
		v := Progress(c.t)
		if states(v) != c.states || v.Ready != c.ready || v.Failed != c.failed || len(v.Steps) != 5 || v.Steps[0].Name == "" {
			t.Errorf("%s: %+v", c.name, v)
		}
		if c.failed && v.Message != "RDS: quota exceeded" {
			t.Errorf("%s: the platform team's message %q", c.name, v.Message)
		}
	}
}
