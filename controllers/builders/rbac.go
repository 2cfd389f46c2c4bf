package builders

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AppServiceAccount is the identity of the app pods.
func AppServiceAccount(namespace string, labels map[string]string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: ServiceAccountName, Namespace: namespace, Labels: labels}}
}

// ConfigReaderRole lets the app read Secrets of its own namespace, where the only Secrets are
// the tenant configurations the operator writes (RBAC cannot select by label; the namespace is
// the boundary).
func ConfigReaderRole(namespace string, labels map[string]string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigReaderRoleName, Namespace: namespace, Labels: labels},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"},
			Verbs: []string{"get", "list", "watch"}}},
	}
}

// ConfigReaderRoleBinding binds ConfigReaderRole to the app's ServiceAccount.
func ConfigReaderRoleBinding(namespace string, labels map[string]string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigReaderRoleName, Namespace: namespace, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ConfigReaderRoleName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: ServiceAccountName, Namespace: namespace}},
	}
}

// OperatorIdentity is who the operator runs as, and the ClusterRole it binds itself to in each
// namespace it makes: writing Secrets and ConfigMaps is granted there, never cluster-wide.
type OperatorIdentity struct {
	// ServiceAccount and Namespace name the operator's ServiceAccount; empty when it runs as
	// another kind of user (a developer's kubeconfig), which then needs those rights itself.
	ServiceAccount, Namespace string
	// DataRole is the ClusterRole that writes Secrets and ConfigMaps; the operator may bind it
	// (RBAC's bind verb, on that role alone) but holds it nowhere else.
	DataRole string
}

// DefaultDataRole is the name of the ClusterRole config/rbac installs for OperatorIdentity.
const DefaultDataRole = "tenant-operator-namespace-data"

// OperatorDataRoleBindingName names the binding in each namespace the operator makes.
const OperatorDataRoleBindingName = "tenant-operator-data"

// OperatorDataRoleBinding lets the operator write Secrets and ConfigMaps in namespace, one of
// its own (a tenant's or a cell's), or nil when it runs as no ServiceAccount.
func OperatorDataRoleBinding(namespace string, labels map[string]string, id OperatorIdentity) *rbacv1.RoleBinding {
	if id.ServiceAccount == "" || id.Namespace == "" {
		return nil
	}
	role := id.DataRole
	if role == "" {
		role = DefaultDataRole
	}
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: OperatorDataRoleBindingName, Namespace: namespace, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: id.ServiceAccount, Namespace: id.Namespace}},
	}
}
