package verdict

import (
	"errors"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
)

func TestSummarize(t *testing.T) {
	parts := []string{saasv1.ConditionDatabaseReady, saasv1.ConditionAppReady}
	cases := []struct {
		name                     string
		verdict                  Verdict
		phase                    string
		ready, reconciling, stll metav1.ConditionStatus
		readyReason              string
	}{
		{"every part ready", Verdict{Parts: []Part{Ready(parts[0], "Available", ""), Ready(parts[1], "Serving", "")}},
			saasv1.PhaseReady, "True", "False", "False", "Ready"},
		{"a part waiting", Verdict{Parts: []Part{Ready(parts[0], "Available", ""), Waiting(parts[1], "RollingOut", "1 of 2")}},
			saasv1.PhaseProvisioning, "False", "True", "False", "RollingOut"},
		{"a part stalled wins over one waiting", Verdict{Parts: []Part{Stalled(parts[0], "ACKTerminal", "no"), Waiting(parts[1], "RollingOut", "")}},
			saasv1.PhaseFailed, "False", "False", "True", "ACKTerminal"},
		{"a part not reported yet", Verdict{Parts: []Part{Ready(parts[0], "Available", "")}},
			saasv1.PhaseProvisioning, "False", "True", "False", ""},
		{"a move in progress keeps a served tenant Ready", Verdict{Parts: []Part{Ready(parts[0], "Available", ""), Ready(parts[1], "Serving", "")},
			Sides: []Part{Waiting(saasv1.ConditionPlaced, "Moving", "moving")}}, saasv1.PhaseReady, "True", "True", "False", "Ready"},
		{"a refused move stalls without making it un-Ready", Verdict{Parts: []Part{Ready(parts[0], "Available", ""), Ready(parts[1], "Serving", "")},
			Sides: []Part{Stalled(saasv1.ConditionPlaced, "MoveRefused", "no")}}, saasv1.PhaseReady, "True", "False", "True", "Ready"},
	}
	for _, c := range cases {
		var conds []metav1.Condition
		phase := Summarize(&conds, 3, parts, c.verdict)
		r, rec, st := Condition(conds, saasv1.ConditionReady), Condition(conds, saasv1.ConditionReconciling), Condition(conds, saasv1.ConditionStalled)
		got := fmt.Sprint(phase, " ", r.Status, rec.Status, st.Status, " ", r.ObservedGeneration)
		want := fmt.Sprint(c.phase, " ", c.ready, c.reconciling, c.stll, " ", 3)
		if got != want || (c.readyReason != "" && r.Reason != c.readyReason) {
			t.Errorf("%s: got %s (Ready reason %s), want %s (%s)", c.name, got, r.Reason, want, c.readyReason)
		}
	}
}

// A verdict summarized again over the conditions it produced changes nothing, transition times
// included: a condition flipped and flipped back in one pass would be written on every reconcile.
func TestSummarizeTwiceChangesNothing(t *testing.T) {
	parts := []string{saasv1.ConditionDatabaseReady}
	verdicts := map[string]Verdict{
		"ready, a side condition waiting": {Parts: []Part{Ready(parts[0], "Available", "")}, Sides: []Part{Waiting(saasv1.ConditionAlarmsReady, "WaitingForACK", "x")}},
		"ready, a side condition stalled": {Parts: []Part{Ready(parts[0], "Available", "")}, Sides: []Part{Stalled(saasv1.ConditionPlaced, "MoveRefused", "x")}},
		"waiting, a side condition ready": {Parts: []Part{Waiting(parts[0], "Creating", "")}, Sides: []Part{Ready(saasv1.ConditionPlaced, "Placed", "x")}},
	}
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for name, v := range verdicts {
		var conds []metav1.Condition
		Summarize(&conds, 1, parts, v)
		for i := range conds {
			conds[i].LastTransitionTime = old
		}
		Summarize(&conds, 1, parts, v)
		for _, c := range conds {
			if !c.LastTransitionTime.Equal(&old) {
				t.Errorf("%s: %s changed its transition time on a second pass over the same verdict", name, c.Type)
			}
		}
	}
}

func TestACKReport(t *testing.T) {
	synced, creating := ack.State{Synced: true}, ack.State{Reason: "ACKNotSynced", Message: "creating"}
	terminal := ack.State{Terminal: true, Reason: "ACKTerminal", Message: "InvalidParameter"}
	cases := []struct {
		name   string
		states map[string]ack.State
		want   string
	}{
		{"none", nil, ""},
		{"all synced", map[string]ack.State{"a": synced, "b": synced}, ""},
		{"the first not synced, by name", map[string]ack.State{"c": creating, "b": creating, "a": synced}, "b"},
		{"a terminal one wins over one not synced", map[string]ack.State{"a": creating, "z": terminal}, "z"},
	}
	for _, c := range cases {
		if name, st := ACKReport(c.states); name != c.want || (name == "" && !st.Synced) {
			t.Errorf("%s: %q %+v, want %q", c.name, name, st, c.want)
		}
	}
	if p := ACKSide("AlarmsReady", terminal, "m", "Waiting"); !p.Stalled || p.Reason != "ACKTerminal" {
		t.Errorf("a terminal state is a stalled side condition with its own reason: %+v", p)
	}
	if p := ACKSide("AlarmsReady", creating, "m", ""); p.Stalled || p.Reason != "ACKNotSynced" || p.Status != metav1.ConditionFalse {
		t.Errorf("a state not synced waits, with its reason when none is given: %+v", p)
	}
}

// The API server refusing a child stalls its part with the server's message; any other error
// is returned, for the reconcile to be retried.
func TestRefused(t *testing.T) {
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "batch", Kind: "CronJob"}, "recommend", nil)
	var v Verdict
	if err := Refused(&v, "RecommendationsReady", "InvalidSchedule", "the CronJob API refused: ", invalid); err != nil || len(v.Parts) != 1 || !v.Parts[0].Stalled {
		t.Errorf("an invalid child: err %v, parts %+v; want one stalled part", err, v.Parts)
	}
	other := errors.New("connection refused")
	if err := Refused(&v, "RecommendationsReady", "InvalidSchedule", "", other); !errors.Is(err, other) || len(v.Parts) != 1 {
		t.Errorf("another error: err %v, parts %+v; want it returned and no part", err, v.Parts)
	}
	var side Verdict
	if err := RefusedSide(&side, "AlarmsReady", "AlarmRefused", invalid); err != nil || len(side.Sides) != 1 || len(side.Parts) != 0 || !side.Sides[0].Stalled {
		t.Errorf("RefusedSide: err %v, verdict %+v; want one stalled side condition", err, side)
	}
	if !side.HasSide("AlarmsReady") || side.HasSide("Placed") {
		t.Error("HasSide does not say which side conditions were recorded")
	}
	side.Side(Ready("AlarmsReady", "InSync", ""))
	if len(side.Sides) != 1 || side.Sides[0].Status != metav1.ConditionTrue {
		t.Errorf("Side replaces an earlier side condition of its type: %+v", side.Sides)
	}
}

// Hold and suspension decide the summary before the parts do.
func TestHoldAndSuspension(t *testing.T) {
	parts := []string{saasv1.ConditionDatabaseReady}
	held := Verdict{Parts: []Part{Stalled(parts[0], "ACKTerminal", "no")}}
	held.HoldOn("TenantsRemain", "2 tenants remain")
	var conds []metav1.Condition
	if phase := Summarize(&conds, 1, parts, held); phase != saasv1.PhaseProvisioning ||
		Condition(conds, saasv1.ConditionReady).Reason != "TenantsRemain" || Condition(conds, saasv1.ConditionStalled).Status != metav1.ConditionFalse {
		t.Errorf("a hold: phase %s, conditions %+v", phase, conds)
	}
	conds = nil
	suspended := Verdict{Phase: saasv1.PhaseSuspended}
	if phase := Summarize(&conds, 1, parts, suspended); phase != saasv1.PhaseSuspended || Condition(conds, saasv1.ConditionReady).Status != metav1.ConditionTrue {
		t.Errorf("suspended: phase %s, Ready %+v; a suspension reached is Ready (kstatus Current)", phase, Condition(conds, saasv1.ConditionReady))
	}
	if c := Condition(nil, "Missing"); c.Status != metav1.ConditionUnknown {
		t.Errorf("a missing condition reads Unknown, got %+v", c)
	}
}
