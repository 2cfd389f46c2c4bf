package controllers

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/tenant"
)

// blindCache is the operator's client with a cache that lags: it has not seen some objects yet,
// holds an old copy of them, or fails to read them. The reads answer says it answered (filling
// obj, or with an error) return that; the others read the real cache.
type blindCache struct {
	client.Client
	answer func(obj client.Object, key client.ObjectKey) (answered bool, err error)
}

func (c blindCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if answered, err := c.answer(obj, key); answered {
		return err
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// passwordSecretUnseen answers reads of the password Secret as a cache that has not seen it.
func passwordSecretUnseen(obj client.Object, key client.ObjectKey) (bool, error) {
	if _, ok := obj.(*corev1.Secret); ok && key.Name == b.DBPasswordSecretName {
		return true, apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	return false, nil
}

// staleTenant answers reads of old's Tenant with old, as a cache that has not seen what was
// written to it since.
func staleTenant(old *saasv1.Tenant) func(client.Object, client.ObjectKey) (bool, error) {
	return func(obj client.Object, key client.ObjectKey) (bool, error) {
		tn, ok := obj.(*saasv1.Tenant)
		if ok && key.Name == old.Name {
			old.DeepCopyInto(tn)
		}
		return ok && key.Name == old.Name, nil
	}
}

func handDriven(c client.Client, newPassword func() (string, error)) *tenant.Reconciler {
	return &tenant.Reconciler{Client: c, APIReader: k8s, Scheme: operator.Scheme(), Recorder: nopRecorder{}, Now: clock.Now, NewPassword: newPassword}
}

// The master password is made once, whatever the cache says: a reconcile whose cache has not
// seen the password Secret asks the API server and never writes a second password.
func TestPasswordIsGeneratedOnceWhateverTheCacheSays(t *testing.T) {
	ctx := context.Background()
	servingCell(t, "pw1", "af-south-1")
	tenant := newTenant("vault", "af-south-1")
	create(t, tenant)
	tenantHas(t, "vault", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	secret := &corev1.Secret{}
	must(t, get(t, secret, "tenant-vault", b.DBPasswordSecretName))
	first, rv := bytes.Clone(secret.Data[b.DBPasswordKey]), secret.ResourceVersion

	var generated atomic.Int32
	lagging := handDriven(blindCache{Client: operator, answer: passwordSecretUnseen}, func() (string, error) { generated.Add(1); return "a-second-password-that-must-never-land", nil })
	for range 3 {
		if _, err := lagging.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "vault"}}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, get(t, secret, "tenant-vault", b.DBPasswordSecretName))
	if !bytes.Equal(secret.Data[b.DBPasswordKey], first) || secret.ResourceVersion != rv || generated.Load() != 0 {
		t.Errorf("password rewritten (resourceVersion %s -> %s, %d passwords generated)", rv, secret.ResourceVersion, generated.Load())
	}

	// Two reconciles racing for a tenant whose Secret does not exist yet: one password lands, and
	// both reconciles use it.
	race := newTenant("vault2", "af-south-1")
	create(t, race)
	tenantHas(t, "vault2", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	must(t, k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-vault2", Name: b.DBPasswordSecretName}}))
	var n atomic.Int32
	racer := handDriven(blindCache{Client: operator, answer: passwordSecretUnseen}, func() (string, error) { return fmt.Sprintf("racer-password-%d", n.Add(1)), nil })
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := racer.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "vault2"}})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	must(t, get(t, secret, "tenant-vault2", b.DBPasswordSecretName))
	landed := string(secret.Data[b.DBPasswordKey])
	playDBAvailable(t, race)
	cfg := &corev1.Secret{}
	eventually(t, "the tenant's configuration carries the password that landed", func() error {
		if err := get(t, cfg, "tenant-vault2", b.TenantConfigName); err != nil {
			return err
		}
		if got := string(cfg.Data[saasv1.ConfigDBPassword]); got != landed {
			return fmt.Errorf("configuration has another password than the Secret")
		}
		return nil
	})
}
