package testenv

import (
	"context"
	"fmt"
	"sync"
	"time"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

// Account plays the RDS instances of an AWS account, as the ACK RDS controller and RDS behind it
// would treat the DBInstances the operator writes: a new identifier is made (after the
// creation time), with the master password its Secret holds then; a DBInstance that adopts an
// identifier (services.k8s.aws/adoption-policy) takes the instance over and sets its password
// to its own Secret's, so the old one stops working; a DBInstance deleted with
// services.k8s.aws/deletion-policy: retain leaves its instance in the account, any other
// takes it away (with its final snapshot, unless told to skip it).
type Account struct {
	createTime time.Duration
	mu         sync.Mutex
	instances  map[string]*Instance
	snapshots  []string
	// deletions counts the times each identifier was deleted: one made again under the same
	// identifier (adopt-or-create finding nothing) is a new, empty instance.
	deletions map[string]int
	now       func() time.Time
}

// Instance is one RDS instance of the account.
type Instance struct {
	Identifier string
	// Owner is the DBInstance (namespace/name) managing it, "" when none does (retained).
	Owner    string
	password string
	// ReadyAt is when RDS finishes making it.
	ReadyAt time.Time
	// Adoptions counts the times a DBInstance took it over.
	Adoptions int
}

func newAccount(createTime time.Duration) *Account {
	return &Account{createTime: createTime, instances: map[string]*Instance{}, deletions: map[string]int{}, now: time.Now}
}

// notYet asks the Player to look at an object again after a while.
type notYet struct{ after time.Duration }

func (n notYet) Error() string { return fmt.Sprintf("not yet: again in %s", n.after) }

// PasswordWorks says whether password logs in to the instance identifier as its master user.
func (a *Account) PasswordWorks(identifier, password string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	in, ok := a.instances[identifier]
	return ok && in.password == password
}

// Instances are the account's instances now, by identifier.
func (a *Account) Instances() map[string]Instance {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]Instance, len(a.instances))
	for id, in := range a.instances {
		out[id] = *in
	}
	return out
}

// Snapshots are the final snapshots deleted instances left, in the order they were taken.
func (a *Account) Snapshots() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.snapshots...)
}

// playDBInstance is RDS and its ACK controller on one DBInstance: make or adopt the instance,
// and report it available once it is.
func (p *Player) playDBInstance(ctx context.Context, c client.Client, o client.Object) (string, error) {
	db := o.(*rds.DBInstance)
	id := identifierOf(db)
	password := p.secretValue(ctx, c, db.Spec.MasterUserPassword)
	if password == "" && db.Spec.MasterUserPassword != nil {
		// ACK waits for the Secret it names (the Player's cache may not hold it yet).
		return "", fmt.Errorf("master password Secret %s/%s not there yet", db.Spec.MasterUserPassword.Namespace, db.Spec.MasterUserPassword.Name)
	}
	owner := db.Namespace + "/" + db.Name
	adopts := db.Annotations[ack.AnnotationAdoptionPolicy] != ""
	a := p.rds
	a.mu.Lock()
	in, exists := a.instances[id]
	if !exists && p.rdsCreated != nil {
		a.mu.Unlock()
		if err := p.rdsCreated(ctx, db); err != nil {
			return "", fmt.Errorf("RDS create of %s: %w", id, err)
		}
		a.mu.Lock()
		in, exists = a.instances[id]
	}
	switch {
	case !exists:
		ready := a.now().Add(a.createTime)
		if adopts && p.rdsCreated != nil {
			ready = a.now() // RDSCreated found it in the AWS stand-in: adopted, not made
		}
		in = &Instance{Identifier: id, Owner: owner, password: password, ReadyAt: ready}
		a.instances[id] = in
	case in.Owner != owner && adopts:
		in.Owner = owner
		in.Adoptions++
		if password != "" {
			in.password = password // ModifyDBInstance MasterUserPassword, on adoption
		}
	case in.Owner == "":
		in.Owner = owner
	}
	wait := in.ReadyAt.Sub(a.now())
	a.mu.Unlock()
	if wait > 0 {
		return "", notYet{wait}
	}
	what := "RDS: " + id + " available"
	if adopts {
		what = "RDS: " + id + " adopted by " + owner + ", available"
	}
	region := p.region
	if r := db.Annotations[ack.AnnotationRegion]; r != "" {
		region = r
	}
	arn := ackv1alpha1.AWSResourceName("arn:aws:rds:" + region + ":" + AccountID + ":db:" + id)
	address, port := id+".c0ffee.rds.amazonaws.com", int64(3306)
	d := &rds.DBInstance{}
	return what, PlayStatus(ctx, c, d, db.Namespace, db.Name, func() {
		st := rds.StatusAvailable
		account, reg := ackv1alpha1.AWSAccountID(AccountID), ackv1alpha1.AWSRegion(region)
		d.Status.ACKResourceMetadata = &ackv1alpha1.ResourceMetadata{ARN: &arn, OwnerAccountID: &account, Region: &reg}
		d.Status.Conditions = ACKSynced()
		d.Status.DBInstanceStatus = &st
		d.Status.Endpoint = &rds.Endpoint{Address: &address, Port: &port}
	})
}

// AccountID is the played AWS account (moto's too).
const AccountID = "123456789012"

// released is RDS on a DBInstance deleted: its instance stays when the deletion policy says
// retain, and goes (after its final snapshot, unless skipped) otherwise. An instance another
// DBInstance took over meanwhile is not this one's to delete.
func (a *Account) released(db *rds.DBInstance) {
	id := identifierOf(db)
	a.mu.Lock()
	defer a.mu.Unlock()
	in, ok := a.instances[id]
	if !ok || in.Owner != db.Namespace+"/"+db.Name {
		return
	}
	if db.Annotations[ack.AnnotationDeletionPolicy] == "retain" {
		in.Owner = ""
		return
	}
	if db.Annotations[rds.AnnotationSkipFinalSnapshot] != "true" {
		a.snapshots = append(a.snapshots, db.Annotations[rds.AnnotationFinalSnapshotIdentifier])
	}
	delete(a.instances, id)
	a.deletions[id]++
}

// Deletions is how many times the instance identifier was deleted.
func (a *Account) Deletions(identifier string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deletions[identifier]
}

// secretValue is the master password a DBInstance names, as its Secret holds it now.
func (p *Player) secretValue(ctx context.Context, c client.Client, ref *rds.SecretKeyReference) string {
	if ref == nil {
		return ""
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, s); err != nil {
		return ""
	}
	return string(s.Data[ref.Key])
}

// identifierOf is the RDS identifier a DBInstance names (one made up from its name if none).
func identifierOf(db *rds.DBInstance) string {
	if db.Spec.DBInstanceIdentifier != nil {
		return *db.Spec.DBInstanceIdentifier
	}
	return db.Namespace + "-" + db.Name
}
