package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsrdsapi "github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsrds"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// playACKCreatesDatabase makes the tenant's database in the AWS stand-in, as ACK's rds-controller
// would on seeing its DBInstance, and then reports it available on the DBInstance, as ACK would.
func playACKCreatesDatabase(t testing.TB, tenant *saasv1.Tenant, region string) string {
	t.Helper()
	db := &rds.DBInstance{}
	eventually(t, "the DBInstance of "+tenant.Name, func() error { return get(t, db, b.TenantNamespace(tenant), b.DBInstanceName) })
	must(t, testenv.MakeInMoto(moto, region)(context.Background(), db))
	playDBAvailable(t, tenant)
	return *db.Spec.DBInstanceIdentifier
}

func copiesIn(t testing.TB, region, db string) []recovery.Snapshot {
	t.Helper()
	c := &awsrds.Client{Config: moto.Config(), EndpointURL: moto.URL}
	snaps, err := c.List(context.Background(), region, db, recovery.SnapshotPrefix(db))
	must(t, err)
	return snaps
}

// Each tenant's database reaches the partner region of its cell every interval: a snapshot in
// the home region, copied under the partner's KMS key, tagged, old copies pruned past the
// retention, the recovery point in the tenant's status at one status write a cycle. A copy that
// cannot be made turns late and stalls the tenant's DisasterRecoveryReady (never its Ready), with
// an Event; a partner outside the jurisdiction is refused on the cell and its tenants; a tenant
// deleted with policy Delete takes its copies with it, one with Snapshot keeps them.
func TestTenantCopiesReachThePartnerRegion(t *testing.T) {
	ctx := context.Background()
	const home, partner = "us-east-2", "us-west-1"
	keyARN, err := moto.KMSKey(ctx, partner) // made by the platform engineer
	must(t, err)
	const interval = 10 * time.Second
	rcv, srv := newReceiver("dr-hmac", 0)
	defer srv.Close()
	cell := servingCell(t, "dr-use2", home, func(c *saasv1.RegionCell) {
		c.Spec.DisasterRecovery = &saasv1.CellDisasterRecovery{PartnerRegion: partner, KMSKeyID: keyARN, CopyInterval: interval.String(), RetainCopies: 2}
		c.Spec.Notifications = &saasv1.Notifications{Webhooks: []saasv1.Webhook{{Name: "ops", URL: srv.URL + "/ops"}},
			HMACSecretRef: hmacSecret(t, "dr-notify", "dr-hmac")}
	})
	cellHas(t, cell.Name, saasv1.ConditionDisasterRecoveryReady, metav1.ConditionTrue, "PartnerInJurisdiction")

	kept := newTenant("dr-kept", home)
	dropped := newTenant("dr-dropped", home, func(tn *saasv1.Tenant) { tn.Spec.Database.DeletionPolicy = saasv1.DeletionDelete })
	optedOut := newTenant("dr-out", home, func(tn *saasv1.Tenant) {
		tn.Spec.DisasterRecovery = &saasv1.TenantDisasterRecovery{Copies: saasv1.CopiesDisabled}
	})
	create(t, kept, dropped, optedOut)
	ids := map[string]string{}
	for _, tn := range []*saasv1.Tenant{kept, dropped, optedOut} {
		ids[tn.Name] = playACKCreatesDatabase(t, tn, home)
		onboard(t, cell, tn)
	}
	tenantHas(t, optedOut.Name, saasv1.ConditionDisasterRecoveryReady, metav1.ConditionTrue, "Disabled")

	recoveryPoint := func(name string, after *saasv1.RecoveryPoint) *saasv1.RecoveryPoint {
		t.Helper()
		var rp *saasv1.RecoveryPoint
		eventuallyWithin(t, 4*interval, "a new recovery point of "+name, func() error {
			tn := &saasv1.Tenant{}
			must(t, get(t, tn, "", name))
			rp = tn.Status.RecoveryPoint
			if rp == nil || (after != nil && rp.SnapshotIdentifier == after.SnapshotIdentifier) {
				return fmt.Errorf("recovery point %+v; %s", rp, condition(tn.Status.Conditions, saasv1.ConditionDisasterRecoveryReady).Message)
			}
			return nil
		})
		return rp
	}
	first := recoveryPoint(kept.Name, nil)
	if first.Region != partner || !strings.HasPrefix(first.SnapshotIdentifier, ids[kept.Name]+"-dr-") || time.Since(first.SnapshotTime.Time) > time.Minute {
		t.Fatalf("recovery point %+v", first)
	}
	tenantHas(t, kept.Name, saasv1.ConditionDisasterRecoveryReady, metav1.ConditionTrue, "CopiesCurrent")
	tenantHas(t, kept.Name, saasv1.ConditionReady, metav1.ConditionTrue, "Ready")

	// The copy is in the partner region, under the partner's key, with the tags a failover finds
	// it by; the home region keeps at most the newest snapshot, the source of the next copy.
	d, err := moto.RDS(partner).DescribeDBSnapshots(ctx, &awsrdsapi.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(first.SnapshotIdentifier)})
	must(t, err)
	if s := d.DBSnapshots[0]; aws.ToString(s.KmsKeyId) != keyARN || !aws.ToBool(s.Encrypted) || !hasTag(s, "tenantops:tenant", kept.Name) ||
		!hasTag(s, "tenantops:home-region", home) || !hasTag(s, "tenantops:cell", cell.Name) {
		t.Errorf("the copy: key %s, tags %v", aws.ToString(s.KmsKeyId), s.TagList)
	}

	// The next cycles: a new recovery point each interval, one status write each, the copies
	// kept to the retention (2, and the one being made).
	mark := writes.Mark()
	second := recoveryPoint(kept.Name, first)
	third := recoveryPoint(kept.Name, second)
	if !third.SnapshotTime.After(second.SnapshotTime.Time) || !second.SnapshotTime.After(first.SnapshotTime.Time) {
		t.Errorf("recovery points not newer: %v %v %v", first.SnapshotTime, second.SnapshotTime, third.SnapshotTime)
	}
	statusWrites := 0
	for _, w := range writes.Since(mark) {
		if w == "patch/status Tenant /"+kept.Name {
			statusWrites++
		} else if strings.HasSuffix(w, "/"+kept.Name) || strings.Contains(w, "tenant-"+kept.Name+"/") {
			t.Errorf("a copy cycle wrote %s", w)
		}
	}
	if statusWrites > 2 {
		t.Errorf("two cycles took %d status writes of the tenant, want one each", statusWrites)
	}
	eventually(t, "copies pruned to the retention", func() error {
		copies := copiesIn(t, partner, ids[kept.Name])
		if len(copies) > 3 || slices.ContainsFunc(copies, func(s recovery.Snapshot) bool { return s.ID == first.SnapshotIdentifier }) {
			return fmt.Errorf("copies %v", copies)
		}
		if h := copiesIn(t, home, ids[kept.Name]); len(h) > 2 {
			return fmt.Errorf("home snapshots %v", h)
		}
		return nil
	})
	if c := copiesIn(t, partner, ids[optedOut.Name]); len(c) > 0 {
		t.Errorf("a tenant that opted out was copied: %v", c)
	}

	// Deleted with policy Delete, a tenant's copies go with its data, in both regions.
	recoveryPoint(dropped.Name, nil)
	must(t, k8s.Delete(ctx, dropped))
	eventually(t, dropped.Name+" gone", func() error {
		if err := get(t, &saasv1.Tenant{}, "", dropped.Name); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	if c, h := copiesIn(t, partner, ids[dropped.Name]), copiesIn(t, home, ids[dropped.Name]); len(c)+len(h) > 0 {
		t.Errorf("policy Delete left copies %v and snapshots %v", c, h)
	}

	// The copies cannot be made (the key is not the partner's any more): the recovery point ages,
	// the tenant keeps serving, and past twice the interval its copies are late, stalled, with
	// what failed, and an Event says so.
	patchCell(t, cell.Name, func(c *saasv1.RegionCell) {
		c.Spec.DisasterRecovery.KMSKeyID = "arn:aws:kms:" + partner + ":123456789012:key/00000000-0000-0000-0000-000000000000"
	})
	late := tenantHas(t, kept.Name, saasv1.ConditionDisasterRecoveryReady, metav1.ConditionFalse, "CopiesLate")
	if msg := condition(late.Status.Conditions, saasv1.ConditionDisasterRecoveryReady).Message; !strings.Contains(msg, "KMS") {
		t.Errorf("the late copies do not say what failed: %q", msg)
	}
	if ready := condition(late.Status.Conditions, saasv1.ConditionReady); ready.Status != metav1.ConditionTrue || late.Status.Phase != saasv1.PhaseReady {
		t.Errorf("late copies changed whether the tenant serves: %+v, phase %s", ready, late.Status.Phase)
	}
	if stalled := condition(late.Status.Conditions, saasv1.ConditionStalled); stalled.Status != metav1.ConditionTrue || stalled.Reason != "CopiesLate" {
		t.Errorf("Stalled %+v", stalled)
	}
	if ev := eventsText(); !strings.Contains(ev, "CopiesLate") || !strings.Contains(ev, "CopyFailed") {
		t.Errorf("no CopiesLate and CopyFailed Events: %s", ev)
	}
	// The cell's receivers hear it once, signed, as a CloudEvent saying what failed.
	eventually(t, "the copies.late CloudEvent", func() error {
		types, err := rcv.typesAt("/ops")
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(strings.Join(types, " "), notify.TypeCopiesLate); n != 1 {
			return fmt.Errorf("%d %s events among %v", n, notify.TypeCopiesLate, types)
		}
		return nil
	})
	rcv.mu.Lock()
	for _, ev := range rcv.accepted["/ops"] {
		if ev.Type == notify.TypeCopiesLate && (ev.Subject != kept.Name || !strings.Contains(ev.Data.Message, "KMS")) {
			t.Errorf("the copies.late event: %+v", ev)
		}
	}
	rcv.mu.Unlock()

	// A partner outside the home region's jurisdiction is refused where it is set, and no tenant
	// of the cell copies there.
	patchCell(t, cell.Name, func(c *saasv1.RegionCell) {
		c.Spec.DisasterRecovery = &saasv1.CellDisasterRecovery{PartnerRegion: "eu-central-1", KMSKeyID: "alias/tenant-copies"}
	})
	refused := cellHas(t, cell.Name, saasv1.ConditionDisasterRecoveryReady, metav1.ConditionFalse, "PartnerOutsideJurisdiction")
	if msg := condition(refused.Status.Conditions, saasv1.ConditionDisasterRecoveryReady).Message; !strings.Contains(msg, "spec.disasterRecovery.partnerRegion eu-central-1") {
		t.Errorf("the refusal does not name the field: %q", msg)
	}
	tenantHas(t, kept.Name, saasv1.ConditionDisasterRecoveryReady, metav1.ConditionFalse, "PartnerOutsideJurisdiction")
	if c := copiesIn(t, "eu-central-1", ids[kept.Name]); len(c) > 0 {
		t.Errorf("copied out of the jurisdiction: %v", c)
	}

	// Deleted with the default policy (Snapshot), a tenant keeps its copies, as it keeps its data.
	must(t, k8s.Delete(ctx, kept))
	eventually(t, kept.Name+" gone", func() error {
		if err := get(t, &saasv1.Tenant{}, "", kept.Name); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	if c := copiesIn(t, partner, ids[kept.Name]); len(c) == 0 {
		t.Error("policy Snapshot deleted the copies")
	}
}

func hasTag(s rdstypes.DBSnapshot, k, v string) bool {
	return slices.ContainsFunc(s.TagList, func(tg rdstypes.Tag) bool { return aws.ToString(tg.Key) == k && aws.ToString(tg.Value) == v })
}
