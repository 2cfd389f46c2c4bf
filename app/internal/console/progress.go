package console

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Step states on the progress page.
const (
	StepDone    = "done"
	StepWorking = "working"
	StepWaiting = "waiting"
	StepFailed  = "failed"
)

// Step is one part of the onboarding as a customer reads it.
type Step struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// View is what the progress page shows of a Tenant.
type View struct {
	Phase string `json:"phase"`
	Steps []Step `json:"steps"`
	// Ready: the store is served at URL.
	Ready bool   `json:"ready"`
	URL   string `json:"url,omitempty"`
	// Failed: onboarding needs the platform team; Message is what they were told.
	Failed  bool   `json:"failed"`
	Message string `json:"message,omitempty"`
}

// steps are the Tenant's part conditions in onboarding order, in plain words.
var steps = []struct{ condition, words string }{
	{saasv1.ConditionDatabaseReady, "Creating your own database"},
	{saasv1.ConditionCacheReady, "Setting up a fast cache for your store"},
	{saasv1.ConditionMigrationsComplete, "Preparing your data"},
	{saasv1.ConditionAppReady, "Starting your store"},
	{saasv1.ConditionDNSReady, "Publishing your address"},
}

// Progress is the View of t: each step done, under way, waiting for the ones before it, or
// failed; the whole ready, or failed with what the platform team was told.
func Progress(t *saasv1.Tenant) View {
	v := View{Phase: t.Status.Phase, URL: t.Status.URL}
	working := false
	for _, s := range steps {
		c := meta.FindStatusCondition(t.Status.Conditions, s.condition)
		st := StepWaiting
		switch {
		case c != nil && c.Status == metav1.ConditionTrue:
			st = StepDone
		case c != nil && t.Status.Phase == saasv1.PhaseFailed && c.Status == metav1.ConditionFalse && !working:
			st = StepFailed
			working = true
		case !working:
			st = StepWorking
			working = true
		}
		v.Steps = append(v.Steps, Step{Name: s.words, State: st})
	}
	switch t.Status.Phase {
	case saasv1.PhaseReady:
		v.Ready = t.Status.URL != ""
	case saasv1.PhaseFailed:
		v.Failed = true
		if c := meta.FindStatusCondition(t.Status.Conditions, saasv1.ConditionStalled); c != nil && c.Message != "" {
			v.Message = c.Message
		} else if c := meta.FindStatusCondition(t.Status.Conditions, saasv1.ConditionReady); c != nil {
			v.Message = c.Message
		}
	}
	return v
}
