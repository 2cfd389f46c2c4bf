package console

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Tenants is where verified signups become Tenants, and where the console reads them back.
type Tenants interface {
	// Regions are the regions a customer may choose: those with a cell.
	Regions(ctx context.Context) ([]string, error)
	// Get is the Tenant of that name (its subdomain), nil when there is none.
	Get(ctx context.Context, subdomain string) (*saasv1.Tenant, error)
	// Create makes the Tenant; ErrTaken when one of that name exists.
	Create(ctx context.Context, t *saasv1.Tenant) error
	// Watch streams the Tenant's states as it is onboarded, until ctx ends.
	Watch(ctx context.Context, name string) (<-chan *saasv1.Tenant, error)
}

// ErrTaken is a subdomain someone has.
var ErrTaken = errors.New("taken")

// Direct creates Tenants through the Kubernetes API, as the console's own ServiceAccount, which
// may create and read Tenants and read RegionCells, nothing else (the chart's ClusterRole).
type Direct struct {
	Client client.WithWatch
}

func (d Direct) Regions(ctx context.Context) ([]string, error) {
	var cells saasv1.RegionCellList
	if err := d.Client.List(ctx, &cells); err != nil {
		return nil, err
	}
	var regions []string
	for _, c := range cells.Items {
		if c.DeletionTimestamp.IsZero() && !slices.Contains(regions, c.Spec.Region) {
			regions = append(regions, c.Spec.Region)
		}
	}
	slices.Sort(regions)
	return regions, nil
}

func (d Direct) Get(ctx context.Context, subdomain string) (*saasv1.Tenant, error) {
	t := &saasv1.Tenant{}
	err := d.Client.Get(ctx, client.ObjectKey{Name: subdomain}, t)
	switch {
	case err == nil:
		return t, nil
	case apierrors.IsNotFound(err):
		return nil, nil
	}
	return nil, err
}

func (d Direct) Create(ctx context.Context, t *saasv1.Tenant) error {
	err := d.Client.Create(ctx, t.DeepCopy())
	if apierrors.IsAlreadyExists(err) {
		return ErrTaken
	}
	return err
}

func (d Direct) Watch(ctx context.Context, name string) (<-chan *saasv1.Tenant, error) {
	// The state now, then every change from there: a watch alone starts at the next change.
	first := &saasv1.Tenant{}
	if err := d.Client.Get(ctx, client.ObjectKey{Name: name}, first); err != nil {
		return nil, fmt.Errorf("reading tenant %s: %w", name, err)
	}
	w, err := d.Client.Watch(ctx, &saasv1.TenantList{}, &client.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name),
		Raw: &metav1.ListOptions{ResourceVersion: first.ResourceVersion}})
	if err != nil {
		return nil, fmt.Errorf("watching tenant %s: %w", name, err)
	}
	out := make(chan *saasv1.Tenant, 1)
	out <- first
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				t, isTenant := ev.Object.(*saasv1.Tenant)
				if !isTenant || ev.Type == watch.Error {
					continue
				}
				select {
				case out <- t:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
