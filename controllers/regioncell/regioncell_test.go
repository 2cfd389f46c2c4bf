package regioncell

import (
	"strings"
	"testing"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

// Unit tests of the cell reconciler's pure pieces; the operator's envtest suite shows them at work.

// The operator serves pages' files only from a bucket ACK made for it in its own account.
func TestBucketOwner(t *testing.T) {
	cell := &saasv1.RegionCell{ObjectMeta: metav1.ObjectMeta{Name: "c1"}, Spec: saasv1.RegionCellSpec{
		Assets: &saasv1.CellAssets{BucketName: "static-c1", PublisherRoleARN: "arn:aws:iam::111111111111:role/publisher"}}}
	synced := []*ackv1alpha1.Condition{{Type: ackv1alpha1.ConditionTypeResourceSynced, Status: corev1.ConditionTrue}}
	bucket := func(account string, conds []*ackv1alpha1.Condition, annotations map[string]string) *s3.Bucket {
		bk := &s3.Bucket{ObjectMeta: metav1.ObjectMeta{Namespace: "cell-c1", Name: "assets", Annotations: annotations}}
		if account != "" {
			id := ackv1alpha1.AWSAccountID(account)
			bk.Status.ACKResourceMetadata = &ackv1alpha1.ResourceMetadata{OwnerAccountID: &id}
		}
		bk.Status.Conditions = conds
		return bk
	}
	cases := []struct {
		name          string
		bucket        *s3.Bucket
		owner, refuse string
	}{
		{"not made yet", bucket("", nil, nil), "", ""},
		{"made, not synced yet", bucket("111111111111", nil, nil), "", ""},
		{"ours", bucket("111111111111", synced, nil), "111111111111", ""},
		{"another account than the publisher's", bucket("222222222222", synced, nil), "", "belongs to account 222222222222"},
		{"adopted: someone else's files", bucket("111111111111", synced, map[string]string{"services.k8s.aws/adoption-policy": "adopt"}), "", "adoption annotations"},
		{"marked adopted by ACK", bucket("111111111111", synced, map[string]string{"services.k8s.aws/adopted": "true"}), "", "adoption annotations"},
	}
	for _, c := range cases {
		owner, refusal := bucketOwner(cell, c.bucket)
		if owner != c.owner || (c.refuse == "") != (refusal == "") || !strings.Contains(refusal, c.refuse) {
			t.Errorf("%s: owner %q refusal %q; want owner %q and a refusal saying %q", c.name, owner, refusal, c.owner, c.refuse)
		}
	}
}

// A version is published once a Job of that version succeeded; a failed, unfinished or deleted
// one does not count.
func TestSucceededJob(t *testing.T) {
	job := func(name, version string, cond batchv1.JobConditionType, deleting bool) batchv1.Job {
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{b.AnnotationAppVersion: version}}}
		if cond != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue}}
		}
		if deleting {
			now := metav1.Now()
			j.DeletionTimestamp = &now
		}
		return j
	}
	jobs := []batchv1.Job{
		job("failed", "1.0.0", batchv1.JobFailed, false),
		job("running", "1.0.0", "", false),
		job("done-but-going", "1.0.0", batchv1.JobComplete, true),
		job("done", "1.0.0", batchv1.JobComplete, false),
		job("other", "2.0.0", batchv1.JobComplete, false),
	}
	if got := succeededJob(jobs, "1.0.0"); got != "done" {
		t.Errorf("1.0.0 published by %q, want done", got)
	}
	if got := succeededJob(jobs[:3], "1.0.0"); got != "" {
		t.Errorf("without a Job that succeeded, 1.0.0 published by %q", got)
	}
	if got := succeededJob(jobs, "3.0.0"); got != "" {
		t.Errorf("a version nobody published: %q", got)
	}
}
