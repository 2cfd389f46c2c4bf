// Package shared holds what both reconcilers do the same way: read a region's cells, give a
// namespace they make its isolation, stamp times into status, and notice deletions.
package shared

import (
	"context"
	"crypto/rand"
	"math/big"
	"sort"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

// DeletionPollInterval is how often a deletion's progress is looked at while AWS works; the
// watches on the children usually come first.
const DeletionPollInterval = 15 * time.Second

// StatusTime is a time as status records it: UTC, whole seconds.
func StatusTime(t time.Time) metav1.Time { return metav1.NewTime(t.UTC().Truncate(time.Second)) }

// DeletionPredicate passes updates that start a deletion, which change no generation.
func DeletionPredicate() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}

// RegionCells lists the RegionCells of region (and, to tell a tenant pinned to another
// region's cell what is wrong, every other cell), sorted by name. The list shares the cache's
// objects: callers copy a cell before keeping it.
func RegionCells(ctx context.Context, c client.Client, region string) (inRegion, all []saasv1.RegionCell, err error) {
	var cells saasv1.RegionCellList
	if err := c.List(ctx, &cells, client.UnsafeDisableDeepCopy); err != nil {
		return nil, nil, err
	}
	all = cells.Items
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	for _, cell := range all {
		if cell.Spec.Region == region {
			inRegion = append(inRegion, cell)
		}
	}
	return inRegion, all, nil
}

// WithBinding puts the operator's own binding right after the namespace, first of what is made
// in it: everything after may write Secrets and ConfigMaps there.
func WithBinding(objs []client.Object, binding *rbacv1.RoleBinding) []client.Object {
	if binding == nil {
		return objs
	}
	return append([]client.Object{objs[0], binding}, objs[1:]...)
}

// EnsureIsolation writes a namespace's objects and its NetworkPolicy, then removes the three
// policies the one replaced: the namespace is never without isolation in between.
func EnsureIsolation(ctx context.Context, a apply.Applier, owner client.Object, objs []client.Object, np *networkingv1.NetworkPolicy) error {
	for _, o := range append(objs, np) {
		if _, err := a.Ensure(ctx, owner, o); err != nil {
			return err
		}
	}
	for _, name := range b.LegacyNetworkPolicyNames {
		if _, err := a.Absent(ctx, &networkingv1.NetworkPolicy{}, client.ObjectKey{Namespace: np.Namespace, Name: name}); err != nil {
			return err
		}
	}
	return nil
}

// NewPassword makes a 32-character RDS master password from letters and digits (RDS refuses
// '/', '"', '@' and spaces; an alphabet without punctuation is safe in every client and URL).
func NewPassword() (string, error) {
	return RandomString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 32)
}

// RandomString is n characters drawn from alphabet by crypto/rand.
func RandomString(alphabet string, n int) (string, error) {
	out := make([]byte, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}

// WarmPoolInstances are cell c's warm-pool DBInstances as reader holds them, claimed or not.
func WarmPoolInstances(ctx context.Context, reader client.Reader, c *saasv1.RegionCell) ([]rds.DBInstance, error) {
	var list rds.DBInstanceList
	if err := reader.List(ctx, &list, client.InNamespace(b.CellNamespace(c)),
		client.MatchingLabels{saasv1.LabelComponent: b.WarmPoolComponent, saasv1.LabelCell: c.Name}); err != nil {
		return nil, err
	}
	return list.Items, nil
}
