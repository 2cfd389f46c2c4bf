package notify

import (
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestStage(t *testing.T) {
	withHooks := &saasv1.RegionCell{Spec: saasv1.RegionCellSpec{Notifications: &saasv1.Notifications{
		Webhooks: []saasv1.Webhook{{Name: "crm", URL: "https://crm.example"}}}}}
	snsOnly := &saasv1.RegionCell{Spec: saasv1.RegionCellSpec{Notifications: &saasv1.Notifications{SNSTopicARN: "arn:aws:sns:eu-west-1:123456789012:t"}}}
	silent := &saasv1.RegionCell{}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name         string
		cell         *saasv1.RegionCell
		phase        string
		notified     string
		pendingPhase string
		staged       bool
	}{
		{"ready is announced", withHooks, saasv1.PhaseReady, "", "", true},
		{"sns alone is a receiver", snsOnly, saasv1.PhaseReady, "", "", true},
		{"no receivers, nothing staged", silent, saasv1.PhaseReady, "", "", false},
		{"provisioning is not announced", withHooks, saasv1.PhaseProvisioning, "", "", false},
		{"announced already", withHooks, saasv1.PhaseReady, saasv1.PhaseReady, "", false},
		{"pending already", withHooks, saasv1.PhaseReady, "", saasv1.PhaseReady, false},
		{"a newer transition replaces a pending one", withHooks, saasv1.PhaseFailed, "", saasv1.PhaseReady, true},
		{"back to ready after a failure", withHooks, saasv1.PhaseReady, saasv1.PhaseFailed, "", true},
		{"deleted", withHooks, PhaseDeleted, saasv1.PhaseSuspended, "", true},
	}
	for _, c := range cases {
		tn := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: types.UID("u-1")}}
		tn.Status.NotifiedPhase = c.notified
		if c.pendingPhase != "" {
			tn.Status.PendingNotification = &saasv1.PendingNotification{ID: "old", Phase: c.pendingPhase}
		}
		if got := Stage(tn, c.cell, c.phase, now); got != c.staged {
			t.Errorf("%s: staged=%v, want %v", c.name, got, c.staged)
			continue
		}
		if c.staged {
			p := tn.Status.PendingNotification
			if p.Phase != c.phase || p.ID != "u-1-"+strings.ToLower(c.phase)+"-"+strconv.FormatInt(now.Unix(), 10) || p.Type != eventTypes[c.phase] {
				t.Errorf("%s: pending %+v", c.name, p)
			}
		}
	}
}

func TestSignIsHMACSHA256(t *testing.T) {
	// RFC 4231 test case 2.
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	if want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestBackoffDelayDoublesUpToMax(t *testing.T) {
	b := Backoff{Initial: 2 * time.Second, Max: 5 * time.Minute}
	for attempt, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 8: 256 * time.Second, 9: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := b.Delay(attempt); got != want {
			t.Errorf("Delay(%d) = %s, want %s", attempt, got, want)
		}
	}
}
