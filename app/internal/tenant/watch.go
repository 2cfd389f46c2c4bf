package tenant

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// WatchSecrets keeps reg in step with the tenant configuration Secrets of namespace that match
// selector: new, changed and removed tenants take effect without a restart. It marks the
// registry loaded once the first full list is in, and returns when ctx ends.
func WatchSecrets[R io.Closer](ctx context.Context, cs kubernetes.Interface, namespace, selector string, reg *Registry[R], log *slog.Logger) error {
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	inf := factory.Core().V1().Secrets().Informer()
	// Secret name -> tenant ID, so a deleted Secret removes the right tenant.
	ids := map[string]string{}
	upsert := func(obj any) {
		s, ok := obj.(*corev1.Secret)
		if !ok {
			return
		}
		c, err := FromData(s.Data)
		if err != nil {
			log.Error("ignoring an invalid tenant configuration", "secret", s.Namespace+"/"+s.Name, "error", err)
			return
		}
		if old, had := ids[s.Name]; had && old != c.ID {
			reg.Remove(old)
		}
		ids[s.Name] = c.ID
		reg.Upsert(c)
		log.Info("tenant configured", "tenant", c.ID, "hosts", c.Hosts)
	}
	remove := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		s, ok := obj.(*corev1.Secret)
		if !ok {
			return
		}
		if id, had := ids[s.Name]; had {
			delete(ids, s.Name)
			reg.Remove(id)
			log.Info("tenant removed", "tenant", id)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    upsert,
		UpdateFunc: func(_, n any) { upsert(n) },
		DeleteFunc: remove,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("tenant Secrets of %s never synced", namespace)
	}
	reg.MarkLoaded()
	<-ctx.Done()
	factory.Shutdown()
	return nil
}
