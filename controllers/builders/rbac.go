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
