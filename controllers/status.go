package controllers

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// part is the verdict of one reconcile step on its condition.
type part struct {
	Type    string
	Status  metav1.ConditionStatus
	Reason  string
	Message string
	// Stalled marks a verdict that needs a person (bad input, a terminal AWS error).
	Stalled bool
}

func ready(t, reason, msg string) part {
	return part{Type: t, Status: metav1.ConditionTrue, Reason: reason, Message: msg}
}
func waiting(t, reason, msg string) part {
	return part{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg}
}
func stalled(t, reason, msg string) part {
	return part{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg, Stalled: true}
}

// verdict is the outcome of a whole reconcile, summarised into kstatus conditions by summarize.
type verdict struct {
	parts []part
	// phase is set when the lifecycle, not the parts, decides it (Pending, Suspended, Deleting).
	phase string
	// hold is what the lifecycle waits for before the parts matter (room in the cell, tenants
	// leaving a cell being deleted); it becomes the Ready and Reconciling message.
	hold *part
	// sides are conditions that do not decide whether the object serves (a tenant's move between
	// cells): one not True keeps Reconciling True, a stalled one sets Stalled, and neither
	// changes Ready or the phase.
	sides []part
}

// side records a side condition, replacing an earlier one of its type.
func (v *verdict) side(p part) {
	for i := range v.sides {
		if v.sides[i].Type == p.Type {
			v.sides[i] = p
			return
		}
	}
	v.sides = append(v.sides, p)
}

// hasSide says whether a side condition of type typ was recorded.
func (v *verdict) hasSide(typ string) bool {
	for _, p := range v.sides {
		if p.Type == typ {
			return true
		}
	}
	return false
}

func (v *verdict) holdOn(reason, msg string) { v.hold = &part{Reason: reason, Message: msg} }

func (v *verdict) add(p part) { v.parts = append(v.parts, p) }

// summarize writes the part conditions and Ready, Reconciling and Stalled (kstatus) onto
// conditions, each stamped with generation, and returns the phase. Ready is True only when
// every part is; Stalled when any part needs a person; Reconciling otherwise while not Ready.
func summarize(conditions *[]metav1.Condition, generation int64, order []string, v verdict) string {
	byType := map[string]part{}
	for _, p := range v.parts {
		byType[p.Type] = p
	}
	var firstNotReady *part
	var stall *part
	for _, t := range order {
		p, ok := byType[t]
		if !ok {
			p = waiting(t, "Pending", "waiting for earlier steps")
		}
		set(conditions, generation, p.Type, p.Status, p.Reason, p.Message)
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
	phase := v.phase
	switch {
	case v.hold != nil:
		readyC, stalledC, reconcilingC = cond{metav1.ConditionFalse, v.hold.Reason, v.hold.Message}, cond{metav1.ConditionFalse, "NotStalled", ""},
			cond{metav1.ConditionTrue, v.hold.Reason, v.hold.Message}
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
	for _, p := range v.sides {
		set(conditions, generation, p.Type, p.Status, p.Reason, p.Message)
		switch {
		case p.Stalled:
			stalledC, reconcilingC = cond{metav1.ConditionTrue, p.Reason, p.Message}, cond{metav1.ConditionFalse, p.Reason, "stalled: needs attention"}
		case p.Status != metav1.ConditionTrue && readyC.status == metav1.ConditionTrue && stalledC.status != metav1.ConditionTrue:
			reconcilingC = cond{metav1.ConditionTrue, p.Reason, p.Type + ": " + p.Message}
		}
	}
	set(conditions, generation, saasv1.ConditionReady, readyC.status, readyC.reason, readyC.message)
	set(conditions, generation, saasv1.ConditionStalled, stalledC.status, stalledC.reason, stalledC.message)
	set(conditions, generation, saasv1.ConditionReconciling, reconcilingC.status, reconcilingC.reason, reconcilingC.message)
	return phase
}

// refused turns an error writing a child into a verdict. The API server refusing the object
// (bad input that passed the CRD's rules but not the child's own validation, such as a cron
// schedule the CronJob API rejects) stalls the part with the server's message; any other error
// is returned, to be retried with backoff.
func refused(v *verdict, typ, reason, prefix string, err error) error {
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		v.add(stalled(typ, reason, prefix+err.Error()))
		return nil
	}
	return err
}

func set(conditions *[]metav1.Condition, generation int64, t string, s metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(conditions, metav1.Condition{
		Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: generation,
	})
}

// findCondition is the condition of type typ, or one with status Unknown when there is none.
func findCondition(conds []metav1.Condition, typ string) metav1.Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{Type: typ, Status: metav1.ConditionUnknown}
}
