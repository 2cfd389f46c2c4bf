package report

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRolledOut(t *testing.T) {
	three := int32(3)
	dep := func(gen, observed int64, st appsv1.DeploymentStatus) *appsv1.Deployment {
		st.ObservedGeneration = observed
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: gen}, Spec: appsv1.DeploymentSpec{Replicas: &three}, Status: st}
	}
	cases := []struct {
		name string
		dep  *appsv1.Deployment
		want bool
	}{
		{"done", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), true},
		{"the controller has not seen the new template", dep(3, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), false},
		{"old pods still running beside the new", dep(2, 2, appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3, AvailableReplicas: 4}), false},
		{"not every replica updated", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 2, AvailableReplicas: 3}), false},
		{"updated but not yet available", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}), false},
		{"nothing yet", dep(1, 0, appsv1.DeploymentStatus{}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, progress := RolledOut(c.dep); got != c.want {
				t.Errorf("report.RolledOut = %v (%s), want %v", got, progress, c.want)
			}
		})
	}
}

func TestIngressRoutes(t *testing.T) {
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "*.website.com"}, {Host: "own.example.org"}}}}
	for host, want := range map[string]bool{
		"acme.website.com": true, "own.example.org": true, "a.b.website.com": false, "website.com": false,
		"acme.website.com.evil.org": false, "acmewebsite.com": false, "other.example.org": false,
	} {
		if got := IngressRoutes(ing, host); got != want {
			t.Errorf("%s: got %v, want %v", host, got, want)
		}
	}
}
