// Package verdict turns what each reconcile step found into kstatus conditions: a Part per step,
// side conditions that do not decide whether the object serves, a hold the lifecycle waits on,
// and Summarize, which writes Ready, Reconciling and Stalled from them. It is pure: every rule
// of the summary is tested with plain go test.
package verdict

import (
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
)

// Part is the verdict of one reconcile step on its condition.
type Part struct {
	Type    string
	Status  metav1.ConditionStatus
	Reason  string
	Message string
	// Stalled marks a verdict that needs a person (bad input, a terminal AWS error).
	Stalled bool
}

// Ready is a step done.
func Ready(t, reason, msg string) Part {
	return Part{Type: t, Status: metav1.ConditionTrue, Reason: reason, Message: msg}
}

// Waiting is a step under way, or waiting on something that will come by itself.
func Waiting(t, reason, msg string) Part {
	return Part{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg}
}

// Stalled is a step that needs a person.
func Stalled(t, reason, msg string) Part {
	return Part{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg, Stalled: true}
}

// Verdict is the outcome of a whole reconcile, summarised into kstatus conditions by Summarize.
type Verdict struct {
	Parts []Part
	// Phase is set when the lifecycle, not the parts, decides it (Pending, Suspended, Deleting).
	Phase string
	// Hold is what the lifecycle waits for before the parts matter (room in the cell, tenants
	// leaving a cell being deleted); it becomes the Ready and Reconciling message.
	Hold *Part
	// Sides are conditions that do not decide whether the object serves (a tenant's move between
	// cells): one not True keeps Reconciling True, a stalled one sets Stalled, and neither
	// changes Ready or the phase.
	Sides []Part
}

// Side records a side condition, replacing an earlier one of its type.
func (v *Verdict) Side(p Part) {
	for i := range v.Sides {
		if v.Sides[i].Type == p.Type {
			v.Sides[i] = p
			return
		}
	}
	v.Sides = append(v.Sides, p)
}

// HasSide says whether a side condition of type typ was recorded.
func (v *Verdict) HasSide(typ string) bool {
	for _, p := range v.Sides {
		if p.Type == typ {
			return true
		}
	}
	return false
}

// HoldOn records what the lifecycle waits for.
func (v *Verdict) HoldOn(reason, msg string) { v.Hold = &Part{Reason: reason, Message: msg} }

// Add records a step's part.
func (v *Verdict) Add(p Part) { v.Parts = append(v.Parts, p) }

// Summarize writes the Part conditions and Ready, Reconciling and Stalled (kstatus) onto
// conditions, each stamped with generation, and returns the phase. Ready is True only when
// every Part is; Stalled when any Part needs a person; Reconciling otherwise while not Ready.
func Summarize(conditions *[]metav1.Condition, generation int64, order []string, v Verdict) string {
	byType := map[string]Part{}
	for _, p := range v.Parts {
		byType[p.Type] = p
	}
	var firstNotReady *Part
	var stall *Part
	for _, t := range order {
		p, ok := byType[t]
		if !ok {
			p = Waiting(t, "Pending", "waiting for earlier steps")
		}
		Set(conditions, generation, p.Type, p.Status, p.Reason, p.Message)
		if p.Status != metav1.ConditionTrue && firstNotReady == nil {
			pc := p
			firstNotReady = &pc
		}
		if p.Stalled && stall == nil {
			pc := p
			stall = &pc
		}
	}
	// The kstatus conditions are decided first and written once each: a condition set twice in
	// one pass (False, then True again) would get a new transition time on every reconcile.
	type cond struct {
		status          metav1.ConditionStatus
		reason, message string
	}
	var readyC, stalledC, reconcilingC cond
	phase := v.Phase
	switch {
	case v.Hold != nil:
		readyC, stalledC, reconcilingC = cond{metav1.ConditionFalse, v.Hold.Reason, v.Hold.Message}, cond{metav1.ConditionFalse, "NotStalled", ""},
			cond{metav1.ConditionTrue, v.Hold.Reason, v.Hold.Message}
		if phase == "" {
			phase = saasv1.PhaseProvisioning
		}
	case stall != nil:
		readyC, stalledC, reconcilingC = cond{metav1.ConditionFalse, stall.Reason, stall.Message}, cond{metav1.ConditionTrue, stall.Reason, stall.Message},
			cond{metav1.ConditionFalse, stall.Reason, "stalled: needs attention"}
		if phase == "" {
			phase = saasv1.PhaseFailed
		}
	case phase == saasv1.PhaseSuspended:
		// Suspension is a desired state reached, so kstatus (Flux, kubectl wait) sees Current;
		// the phase and the reason say the tenant is not served.
		readyC, stalledC, reconcilingC = cond{metav1.ConditionTrue, "Suspended", "suspended by spec.suspended; nothing is served, nothing is deleted"},
			cond{metav1.ConditionFalse, "Suspended", ""}, cond{metav1.ConditionFalse, "Suspended", ""}
	case firstNotReady != nil:
		msg := firstNotReady.Type + ": " + firstNotReady.Message
		readyC, stalledC, reconcilingC = cond{metav1.ConditionFalse, firstNotReady.Reason, msg}, cond{metav1.ConditionFalse, "NotStalled", ""},
			cond{metav1.ConditionTrue, firstNotReady.Reason, msg}
		if phase == "" {
			phase = saasv1.PhaseProvisioning
		}
	default:
		readyC, stalledC, reconcilingC = cond{metav1.ConditionTrue, "Ready", "all parts ready"}, cond{metav1.ConditionFalse, "NotStalled", ""},
			cond{metav1.ConditionFalse, "Ready", ""}
		if phase == "" {
			phase = saasv1.PhaseReady
		}
	}
	for _, p := range v.Sides {
		Set(conditions, generation, p.Type, p.Status, p.Reason, p.Message)
		switch {
		case p.Stalled:
			stalledC, reconcilingC = cond{metav1.ConditionTrue, p.Reason, p.Message}, cond{metav1.ConditionFalse, p.Reason, "stalled: needs attention"}
		case p.Status != metav1.ConditionTrue && readyC.status == metav1.ConditionTrue && stalledC.status != metav1.ConditionTrue:
			reconcilingC = cond{metav1.ConditionTrue, p.Reason, p.Type + ": " + p.Message}
		}
	}
	Set(conditions, generation, saasv1.ConditionReady, readyC.status, readyC.reason, readyC.message)
	Set(conditions, generation, saasv1.ConditionStalled, stalledC.status, stalledC.reason, stalledC.message)
	Set(conditions, generation, saasv1.ConditionReconciling, reconcilingC.status, reconcilingC.reason, reconcilingC.message)
	return phase
}

// Refused turns an error writing a child into a verdict. The API server refusing the object
// (bad input that passed the CRD's rules but not the child's own validation, such as a cron
// schedule the CronJob API rejects) stalls the Part with the server's message; any other error
// is returned, to be retried with backoff.
func Refused(v *Verdict, typ, reason, prefix string, err error) error {
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		v.Add(Stalled(typ, reason, prefix+err.Error()))
		return nil
	}
	return err
}

// Set sets one condition, stamped with generation.
func Set(conditions *[]metav1.Condition, generation int64, t string, s metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(conditions, metav1.Condition{
		Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: generation,
	})
}

// Condition is the condition of type typ, or one with status Unknown when there is none.
func Condition(conds []metav1.Condition, typ string) metav1.Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{Type: typ, Status: metav1.ConditionUnknown}
}

// ACKReport sums up the ACK states of a set of objects: the first terminal one, else the first
// not synced, else all synced (name "").
func ACKReport(states map[string]ack.State) (name string, st ack.State) {
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if states[n].Terminal {
			return n, states[n]
		}
	}
	for _, n := range names {
		if !states[n].Synced {
			return n, states[n]
		}
	}
	return "", ack.State{Synced: true}
}

// ACKSide turns an ACK state into a side condition: stalled when terminal, waiting otherwise,
// with reason (the state's own when empty).
func ACKSide(typ string, st ack.State, msg, reason string) Part {
	if reason == "" {
		reason = st.Reason
	}
	if st.Terminal {
		return Stalled(typ, st.Reason, msg)
	}
	return Waiting(typ, reason, msg)
}

// RefusedSide is Refused for a side condition.
func RefusedSide(v *Verdict, typ, reason string, err error) error {
	var side Verdict
	if rerr := Refused(&side, typ, reason, "", err); rerr != nil {
		return rerr
	}
	for _, p := range side.Parts {
		v.Side(p)
	}
	return nil
}

// Few is names as a message lists them: the first n, and an ellipsis when there are more.
func Few(names []string, n int) []string {
	if len(names) > n {
		return append(names[:n:n], "…")
	}
	return names
}
