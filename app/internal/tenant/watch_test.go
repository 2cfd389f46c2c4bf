package tenant

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// The app follows the operator's tenant configuration Secrets on a real API server: new,
// changed and removed tenants take effect without a restart; Secrets without the label and
// invalid ones are ignored.
func TestWatchSecretsFollowsTheOperatorsSecrets(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "cell-test"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	secret := func(name, id, host string, labelled bool) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: map[string]string{
			saasv1.ConfigTenantID: id, saasv1.ConfigHosts: host, saasv1.ConfigDBDriver: "sqlite", saasv1.ConfigDBName: "/tmp/" + id + ".db"}}
		if labelled {
			s.Labels = map[string]string{saasv1.LabelTenantConfig: "true"}
		}
		return s
	}
	create := func(s *corev1.Secret) {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create(secret("tenant-acme", "acme", "acme.website.com", true))
	create(secret("unrelated", "sneaky", "sneaky.website.com", false))

	var closed atomic.Int32
	reg := NewRegistry(func(Config) (fakeResources, error) { return fakeResources{closed: &closed}, nil })
	go func() {
		_ = WatchSecrets(ctx, cs, ns, saasv1.LabelTenantConfig+"=true", reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	wait := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if ok() {
				return
			}
		}
		t.Fatalf("%s: registry has %v", what, reg.IDs())
	}
	wait("loaded with acme", func() bool { return reg.Loaded() && fmt.Sprint(reg.IDs()) == "[acme]" })

	create(secret("tenant-globex", "globex", "globex.website.com", true))
	create(secret("tenant-broken", "", "broken.website.com", true))
	wait("globex added", func() bool { _, ok := reg.Lookup("globex.website.com"); return ok })

	acme, _ := reg.Get("acme")
	if _, err := acme.Resources(); err != nil {
		t.Fatal(err)
	}
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, "tenant-acme", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Data[saasv1.ConfigHosts] = []byte("acme.website.com,shop.acme.example")
	if _, err := cs.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("acme's new host", func() bool { _, ok := reg.Lookup("shop.acme.example"); return ok })
	if closed.Load() != 1 {
		t.Errorf("acme's old resources were not closed on the change")
	}

	if err := cs.CoreV1().Secrets(ns).Delete(ctx, "tenant-globex", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("globex removed", func() bool { _, ok := reg.Lookup("globex.website.com"); return !ok })
	if _, ok := reg.Lookup("sneaky.website.com"); ok {
		t.Error("a Secret without the label became a tenant")
	}
	if fmt.Sprint(reg.IDs()) != "[acme]" {
		t.Errorf("tenants %v", reg.IDs())
	}
}
