// Package apply is the one piece of code that writes child objects: it makes them (Ensure,
// CreateOnce), removes them (Absent) and writes the status of the operator's own objects
// (PatchStatus). It compares what a builder
// wants with what the informer cache holds and writes only when the operator's intent changed,
// with server-side apply so fields other controllers set (ACK's late-initialised fields, the
// HPA's replica count) are left to them.
//
// Two things make a difference: a field the builder sets that the live object lacks or holds
// otherwise, and a changed intent. The second is what makes a field the builder stops setting
// go away: every applied object carries the hash of the intent it was applied with
// (AnnotationIntent); when the builder's intent hashes differently, the whole intent is applied
// again, and server-side apply removes what this field manager set before and now leaves out.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// FieldOwner is the server-side apply field manager of everything the operator writes.
const FieldOwner = "tenant-operator"

// AnnotationIntent holds the hash of the intent an object was last applied with.
const AnnotationIntent = "saas.tenantops.io/applied-intent"

// Result says what Ensure did.
type Result string

const (
	Unchanged Result = "unchanged"
	Created   Result = "created"
	Updated   Result = "updated"
)

// Applier writes child objects.
type Applier struct {
	Client client.Client
	Scheme *runtime.Scheme
	// Reader reads past the cache (the API server itself), for CreateOnce.
	Reader client.Reader
}

// Ensure makes the cluster hold desired, owned (as controller) by owner when owner is not nil.
// On return desired holds the object as the cluster has it, status included, so the caller can
// read what other controllers reported.
func (a Applier) Ensure(ctx context.Context, owner client.Object, desired client.Object) (Result, error) {
	if owner != nil {
		if err := controllerutil.SetControllerReference(owner, desired, a.Scheme); err != nil {
			return Unchanged, err
		}
	}
	want, err := intent(desired)
	if err != nil {
		return Unchanged, err
	}
	if err := stampIntent(want); err != nil {
		return Unchanged, err
	}
	return a.applyWant(ctx, desired, want, FieldOwner, true)
}

// EnsureFields makes the cluster hold the fields desired sets, and only those, under their own
// field manager: for the few fields one step of the operator decides on an object another step
// applies whole (a database's deletion settings), so that each field has one writer and the rest
// of the object is left as it was applied. It writes only when a field differs, and reports
// Unchanged or Updated; the object must exist.
func (a Applier) EnsureFields(ctx context.Context, desired client.Object, manager string) (Result, error) {
	want, err := intent(desired)
	if err != nil {
		return Unchanged, err
	}
	return a.applyWant(ctx, desired, want, manager, false)
}

// applyWant applies want, desired's intent, as manager unless the cached object holds it
// already; a missing object is created when create is set, and an error otherwise. On return
// desired holds the object as the cluster has it.
func (a Applier) applyWant(ctx context.Context, desired client.Object, want map[string]any, manager string, create bool) (Result, error) {
	gvk, err := apiutil.GVKForObject(desired, a.Scheme)
	if err != nil {
		return Unchanged, err
	}
	current, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return Unchanged, fmt.Errorf("%s is not a client.Object", gvk)
	}
	result := Updated
	switch err := a.Client.Get(ctx, client.ObjectKeyFromObject(desired), current); {
	case apierrors.IsNotFound(err) && create:
		result = Created
	case err != nil:
		return Unchanged, err
	default:
		have, err := runtime.DefaultUnstructuredConverter.ToUnstructured(current)
		if err != nil {
			return Unchanged, err
		}
		if Contains(have, want) {
			return Unchanged, copyInto(current, desired)
		}
	}

	u := &unstructured.Unstructured{Object: want}
	u.SetGroupVersionKind(gvk)
	if err := a.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(manager), client.ForceOwnership); err != nil {
		as := ""
		if manager != FieldOwner {
			as = " as " + manager
		}
		return Unchanged, fmt.Errorf("apply %s %s%s: %w", gvk.Kind, client.ObjectKeyFromObject(desired), as, err)
	}
	return result, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, desired)
}

// CreateOnce creates obj, owned by owner, unless it exists; it never changes an existing one.
// It is for what must be made exactly once, such as a generated password: whatever the cache
// says, the API server decides, and on AlreadyExists obj is filled with what the API server
// holds. It returns whether it created obj.
func (a Applier) CreateOnce(ctx context.Context, owner client.Object, obj client.Object) (bool, error) {
	if owner != nil {
		if err := controllerutil.SetControllerReference(owner, obj, a.Scheme); err != nil {
			return false, err
		}
	}
	err := a.Client.Create(ctx, obj, client.FieldOwner(FieldOwner))
	if err == nil {
		return true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return false, err
	}
	return false, a.Reader.Get(ctx, client.ObjectKeyFromObject(obj), obj)
}

// Absent makes sure the object of obj's kind named key is gone or going: it deletes it (in the
// background, its dependents after it) unless the cache no longer holds it or it is already
// being deleted, and says whether it is gone. The cache may lag behind a deletion: a caller
// that waits on gone sees it on a later reconcile, woken by the deletion's own event.
func (a Applier) Absent(ctx context.Context, obj client.Object, key client.ObjectKey) (gone bool, err error) {
	if err := a.Client.Get(ctx, key, obj); err != nil {
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}
	if obj.GetDeletionTimestamp().IsZero() {
		if err := a.Client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		}
	}
	return false, nil
}

// ReleaseManager is the field manager of a database's deletion settings (annotations and
// deletion protection), which a deletion writes with EnsureFields on a DBInstance another step
// applied whole.
const ReleaseManager = "tenant-operator-release"

// AnnotateAsRead sets annotations on obj, as it was read: the write lands only on that
// resourceVersion, and is refused with a Conflict when anyone wrote the object since. For a mark
// that two writers may race for, such as a tenant's claim on a warm-pool database.
// Keys in remove are taken off.
func (a Applier) AnnotateAsRead(ctx context.Context, obj client.Object, annotations map[string]string, remove ...string) error {
	orig, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("%T is not a client.Object", obj)
	}
	merged := map[string]string{}
	for k, v := range obj.GetAnnotations() {
		merged[k] = v
	}
	for k, v := range annotations {
		merged[k] = v
	}
	for _, k := range remove {
		delete(merged, k)
	}
	obj.SetAnnotations(merged)
	return a.Client.Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
}

// DeleteAsRead deletes obj only as it was read (its resourceVersion): a Conflict says someone
// wrote it since (a claim on a pool database the cell meant to release), and nothing is deleted.
// An object already gone is no error.
func (a Applier) DeleteAsRead(ctx context.Context, obj client.Object) error {
	rv := obj.GetResourceVersion()
	return client.IgnoreNotFound(a.Client.Delete(ctx, obj, client.Preconditions{ResourceVersion: &rv},
		client.PropagationPolicy(metav1.DeletePropagationBackground)))
}

// PatchStatus writes obj's status when it differs from before's, before being a copy of obj
// taken before the reconcile changed its status; an object deleted meanwhile is no error.
// Nothing is written at rest. The patch holds the status alone: whatever else changed since
// before (a finalizer added, a new resourceVersion) is not part of it.
func (a Applier) PatchStatus(ctx context.Context, obj, before client.Object) error {
	return a.patchStatus(ctx, obj, before)
}

// PatchStatusAsRead is PatchStatus with an optimistic lock: the write lands only on the object
// as it was read (its resourceVersion), and a status computed from a read that missed later
// writes is refused with a Conflict instead of overwriting them. For a status that mints
// something that must not be minted twice, such as an event to announce.
func (a Applier) PatchStatusAsRead(ctx context.Context, obj, before client.Object) error {
	return a.patchStatus(ctx, obj, before, client.MergeFromWithOptimisticLock{})
}

func (a Applier) patchStatus(ctx context.Context, obj, before client.Object, opts ...client.MergeFromOption) error {
	if equality.Semantic.DeepEqual(statusField(obj).Interface(), statusField(before).Interface()) {
		return nil
	}
	orig, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("%T is not a client.Object", obj)
	}
	statusField(orig).Set(statusField(before))
	return client.IgnoreNotFound(a.Client.Status().Patch(ctx, obj, client.MergeFromWithOptions(orig, opts...)))
}

// statusField is the Status field of a typed object.
func statusField(obj client.Object) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByName("Status")
}

// stampIntent records in want's annotations the hash of the rest of want.
func stampIntent(want map[string]any) error {
	raw, err := json.Marshal(want) // maps marshal with sorted keys: the same intent, the same hash
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	meta, _ := want["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		meta["annotations"] = ann
	}
	ann[AnnotationIntent] = hex.EncodeToString(sum[:12])
	return nil
}

func copyInto(src, dst client.Object) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(src)
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(m, dst)
}

// intent is the part of an object the operator has an opinion on: its spec-like fields and
// the identifying and ownership metadata, without status and without empty values.
func intent(obj client.Object) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	meta, _ := m["metadata"].(map[string]any)
	keep := map[string]any{}
	for _, k := range []string{"name", "namespace", "labels", "annotations", "ownerReferences"} {
		if v, ok := meta[k]; ok {
			keep[k] = v
		}
	}
	m["metadata"] = keep
	pruned, _ := prune(m).(map[string]any)
	return pruned, nil
}

// prune drops nulls, empty maps and empty lists: the API server stores none of them for
// omitempty fields, so keeping them would make every comparison differ. Server-side apply
// removes a field the operator set before and now leaves out, so "empty" still takes effect.
// Zero scalars stay: false and 0 are opinions.
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range t {
			p := prune(val)
			if p == nil {
				continue
			}
			if isEmpty(p) {
				continue
			}
			out[k] = p
		}
		return out
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			if p := prune(e); p != nil {
				out = append(out, p)
			}
		}
		return out
	default:
		return v
	}
}

// Contains reports whether have holds every value of want: maps may have more keys (defaults,
// other managers' fields); lists must have the same length with each element containing the
// wanted one; scalars must be equal.
func Contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok || !Contains(hv, wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !Contains(h[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// Exactly makes the objects of list's kind in namespace that carry labels be exactly
// desired: each is ensured (owned by owner), and the others, which a spec change left behind
// (an address unsubscribed, an alarm no longer wanted), are removed. desired hold what the
// cluster has on return.
func (a Applier) Exactly(ctx context.Context, owner client.Object, desired []client.Object, list client.ObjectList,
	namespace string, labels map[string]string) error {
	want := map[string]bool{}
	for _, o := range desired {
		if _, err := a.Ensure(ctx, owner, o); err != nil {
			return err
		}
		want[o.GetName()] = true
	}
	if err := a.Client.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels(labels)); err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, item := range items {
		o, ok := item.(client.Object)
		if !ok || want[o.GetName()] {
			continue
		}
		fresh, _ := o.DeepCopyObject().(client.Object)
		if _, err := a.Absent(ctx, fresh, client.ObjectKeyFromObject(o)); err != nil {
			return err
		}
	}
	return nil
}
