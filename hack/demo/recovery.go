package main

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsrds"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// The demo's disaster recovery: cell eu-west-1-b copies its tenants' databases to eu-central-1,
// with moto_server answering the operator's RDS snapshot and copy calls (what AWS would).
const (
	drCell, drPartner = "eu-west-1-b", "eu-central-1"
	drInterval        = 20 * time.Second
)

// demoCopies gives the demo's operator an RDS for copies: moto_server, when this machine has it.
func demoCopies(opts *demoAWS) {
	m, err := testsvc.StartMoto()
	if err != nil {
		say("disaster recovery: not shown (%v)", err)
		return
	}
	opts.moto = m
	opts.copier = &awsrds.Client{Config: m.Config(), EndpointURL: m.URL}
}

// demoAWS is what the demo's operator talks to instead of AWS for copies.
type demoAWS struct {
	moto   *testsvc.Moto
	copier recovery.Copier
}

// showRecoveryPoints turns the copies on for cell eu-west-1-b (a partner region and its key, a
// short interval), plays ACK making its tenants' databases in moto, and says each tenant's
// recovery point once its first copy is in the partner region.
func showRecoveryPoints(ctx context.Context, c client.Client, copies *demoAWS) error {
	if copies.moto == nil {
		return nil
	}
	key, err := copies.moto.KMSKey(ctx, drPartner)
	if err != nil {
		return err
	}
	cell := &saasv1.RegionCell{}
	if err := c.Get(ctx, client.ObjectKey{Name: drCell}, cell); err != nil {
		return err
	}
	orig := cell.DeepCopy()
	cell.Spec.DisasterRecovery = &saasv1.CellDisasterRecovery{PartnerRegion: drPartner, KMSKeyID: key, CopyInterval: drInterval.String(), RetainCopies: 3}
	if err := c.Patch(ctx, cell, client.MergeFrom(orig)); err != nil {
		return err
	}
	say("cell %s copies its tenants' databases to %s every %s (spec.disasterRecovery; moto_server plays RDS and KMS)", drCell, drPartner, drInterval)
	var tenants saasv1.TenantList
	if err := c.List(ctx, &tenants); err != nil {
		return err
	}
	var names []string
	for _, t := range tenants.Items {
		if t.Status.Cell != drCell {
			continue
		}
		db := &rds.DBInstance{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: b.TenantNamespace(&t), Name: b.DBInstanceName}, db); err != nil {
			return err
		}
		if err := testenv.MakeInMoto(copies.moto, t.Spec.Region)(ctx, db); err != nil {
			return err
		}
		say("[played] RDS in moto: %s's database %s, as ACK made it", t.Name, *db.Spec.DBInstanceIdentifier)
		names = append(names, t.Name)
	}
	for _, name := range names {
		var rp *saasv1.RecoveryPoint
		if !waitUntil(ctx, 2*drInterval+30*time.Second, func() bool {
			t := &saasv1.Tenant{}
			if c.Get(ctx, client.ObjectKey{Name: name}, t) != nil {
				return false
			}
			rp = t.Status.RecoveryPoint
			return rp != nil
		}) {
			return fmt.Errorf("%s has no copy in %s", name, drPartner)
		}
		say("%s's recovery point: copy %s in %s, the data as of %s (status.recoveryPoint)", name, rp.SnapshotIdentifier, rp.Region,
			rp.SnapshotTime.UTC().Format(time.RFC3339))
	}
	return nil
}
