package testenv

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// WriteLog records every write a client sends to the API server, as "verb Kind namespace/name"
// (verb "patch/status" for status writes). Wrap a manager's client with it through
// ctrl.Options.NewClient and interceptor.NewClient(c, log.Funcs()).
type WriteLog struct {
	mu      sync.Mutex
	entries []string
}

func (w *WriteLog) add(verb string, obj any) {
	type named interface {
		GetName() string
		GetNamespace() string
	}
	kind := fmt.Sprintf("%T", obj)
	if o, ok := obj.(runtime.Object); ok && o.GetObjectKind().GroupVersionKind().Kind != "" {
		kind = o.GetObjectKind().GroupVersionKind().Kind
	}
	kind = kind[strings.LastIndex(kind, ".")+1:]
	name := "?"
	if n, ok := obj.(named); ok {
		name = n.GetNamespace() + "/" + n.GetName()
	}
	w.mu.Lock()
	w.entries = append(w.entries, verb+" "+kind+" "+name)
	w.mu.Unlock()
}

// Mark is a position in the log, for Since.
func (w *WriteLog) Mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.entries)
}

// Since lists the writes after mark.
func (w *WriteLog) Since(mark int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.entries[mark:]...)
}

// CountByVerbAndKind counts the writes after mark by "verb Kind".
func (w *WriteLog) CountByVerbAndKind(mark int) map[string]int {
	counts := map[string]int{}
	for _, e := range w.Since(mark) {
		parts := strings.SplitN(e, " ", 3)
		counts[parts[0]+" "+parts[1]]++
	}
	return counts
}

// Funcs are the interceptor functions that record writes and pass them on.
func (w *WriteLog) Funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			w.add("create", obj)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			w.add("update", obj)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			w.add("patch", obj)
			return c.Patch(ctx, obj, p, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			w.add("apply", obj)
			return c.Apply(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			w.add("delete", obj)
			return c.Delete(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			w.add("patch/"+sub, obj)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			w.add("update/"+sub, obj)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	}
}

// ReconcileTotal reads controller-runtime's own counter of finished reconciles of a controller.
func ReconcileTotal(controller string) float64 {
	return MetricTotal("controller_runtime_reconcile_total", controller)
}

// MetricTotal sums a controller-runtime counter over the series of one controller.
func MetricTotal(name, controller string) float64 {
	families, _ := ctrlmetrics.Registry.Gather()
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}
