package controllers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/tenant"
)

// blindCache is the operator's client with a cache that has not seen some objects yet (or
// fails to read them): the reads it is told about answer as the test says.
type blindCache struct {
	client.Client
	answer func(obj client.Object, key client.ObjectKey) error
}

func (c blindCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.answer(obj, key); err != nil {
		return err
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// passwordSecretUnseen answers reads of the password Secret as a cache that has not seen it.
func passwordSecretUnseen(obj client.Object, key client.ObjectKey) error {
	if _, ok := obj.(*corev1.Secret); ok && key.Name == b.DBPasswordSecretName {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	return nil
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

// A failing step is named in the error the reconcile returns (and logged once, by
// controller-runtime, not also by the step).
func TestAFailingStepIsNamed(t *testing.T) {
	ctx := context.Background()
	servingCell(t, "step1", "ap-south-2")
	create(t, newTenant("named", "ap-south-2"))
	tenantHas(t, "named", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	injected := errors.New("injected read failure")
	r := handDriven(blindCache{Client: operator, answer: func(obj client.Object, _ client.ObjectKey) error {
		if _, ok := obj.(*rds.DBInstance); ok {
			return injected
		}
		return nil
	}}, tenant.NewPassword)
	_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "named"}})
	if !errors.Is(err, injected) || !strings.HasPrefix(err.Error(), "step database: ") {
		t.Fatalf("error = %v, want it to name the database step and wrap the cause", err)
	}
}

// A suspended dedicated tenant's app is held at zero replicas; resumed, the Deployment no longer
// carries the zero (the HPA scales it again), and the app is Ready only with available pods.
func TestDedicatedResumeGivesReplicasBackToTheHPA(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "sus1", "ap-east-1")
	tenant := newTenant("sleeper", "ap-east-1", func(tn *saasv1.Tenant) { tn.Spec.Tier = saasv1.TierDedicated })
	create(t, tenant)
	onboard(t, cell, tenant)

	setSuspended := func(v bool) {
		tn := &saasv1.Tenant{}
		must(t, get(t, tn, "", "sleeper"))
		tn.Spec.Suspended = v
		must(t, k8s.Update(ctx, tn))
	}
	dep := &appsv1.Deployment{}
	setSuspended(true)
	eventually(t, "suspended app held at 0", func() error {
		must(t, get(t, dep, "tenant-sleeper", b.AppName))
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 0 {
			return fmt.Errorf("replicas %v", dep.Spec.Replicas)
		}
		return nil
	})
	playDeploymentAvailable(t, "tenant-sleeper", b.AppName) // the Deployment controller reports 0 of 0
	tenantHas(t, "sleeper", saasv1.ConditionAppReady, metav1.ConditionFalse, "Suspended")

	setSuspended(false)
	eventually(t, "resumed app no longer held at 0", func() error {
		must(t, get(t, dep, "tenant-sleeper", b.AppName))
		if dep.Spec.Replicas != nil && *dep.Spec.Replicas == 0 {
			return fmt.Errorf("still replicas 0")
		}
		return nil
	})
	got := tenantHas(t, "sleeper", saasv1.ConditionAppReady, metav1.ConditionFalse, "RollingOut")
	if got.Status.Phase == saasv1.PhaseReady {
		t.Errorf("Ready with no available replica")
	}
	playDeploymentAvailable(t, "tenant-sleeper", b.AppName)
	got = tenantHas(t, "sleeper", saasv1.ConditionAppReady, metav1.ConditionTrue, "Serving")
	if msg := condition(got.Status.Conditions, saasv1.ConditionAppReady).Message; strings.Contains(msg, " 0 available") {
		t.Errorf("serving with no replica: %s", msg)
	}
}

// An annotation (or any field) a builder stops setting is removed from the live object.
func TestApplierRemovesWhatTheBuilderNoLongerSets(t *testing.T) {
	ctx := context.Background()
	a := apply.Applier{Client: operator, Scheme: operator.Scheme(), Reader: k8s}
	build := func(extra map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "dropped", Namespace: "default", Annotations: extra,
				Labels: map[string]string{saasv1.LabelManagedBy: saasv1.LabelManagedByValue}},
			Data: map[string]string{"kept": "yes"},
		}
	}
	if _, err := a.Ensure(ctx, nil, build(map[string]string{"example.com/old": "1"})); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	eventually(t, "the cache sees the first apply", func() error {
		if err := operator.Get(ctx, client.ObjectKey{Namespace: "default", Name: "dropped"}, cm); err != nil {
			return err
		}
		if cm.Annotations["example.com/old"] != "1" {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	res, err := a.Ensure(ctx, nil, build(nil))
	if err != nil || res != apply.Updated {
		t.Fatalf("dropping an annotation: %v %v, want an update", res, err)
	}
	must(t, get(t, cm, "default", "dropped"))
	if _, ok := cm.Annotations["example.com/old"]; ok || cm.Data["kept"] != "yes" {
		t.Errorf("after the builder dropped it: annotations %v data %v", cm.Annotations, cm.Data)
	}
	// The same intent again is no write.
	eventually(t, "the cache sees the second apply", func() error {
		if err := operator.Get(ctx, client.ObjectKey{Namespace: "default", Name: "dropped"}, cm); err != nil {
			return err
		}
		if _, ok := cm.Annotations["example.com/old"]; ok {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if res, err := a.Ensure(ctx, nil, build(nil)); err != nil || res != apply.Unchanged {
		t.Errorf("the same intent again: %v %v, want unchanged", res, err)
	}
}
