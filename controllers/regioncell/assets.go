package regioncell

import (
	"context"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudfront"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/report"
	"github.com/tenantops/tenant-operator/controllers/rollout"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// reconcileAssets keeps the cell's static files on S3 behind CloudFront (spec.assets): the
// private bucket, the origin access control, the distribution, the bucket policy letting only it
// read (once CloudFront gave it an ARN), the alias record, and a publishing Job per app version
// the cell's apps run. The files' URL goes to status (and so to the tenants) once the
// distribution is deployed and the version the shared app runs is published; a new version's
// rollout waits for its files (run.published, read by reconcileApp).
func (r *Reconciler) reconcileAssets(ctx context.Context, run *cellRun) error {
	c, a := run.cell, r.applier()
	labels := b.CellLabels(c, b.ComponentAssets)
	if c.Spec.Assets == nil {
		c.Status.AssetsURL, c.Status.AssetsVersions = "", nil
		run.verdict.Side(verdict.Ready(saasv1.ConditionAssetsReady, "NotConfigured", "the app serves its own files (spec.assets is not set)"))
		if !r.Kinds.Assets {
			return nil
		}
		// The bucket is retained in AWS (its deletion policy), the rest goes.
		for _, l := range []client.ObjectList{&route53.RecordSetList{}, &cloudfront.DistributionList{}, &cloudfront.OriginAccessControlList{}, &s3.BucketList{}, &batchv1.JobList{}} {
			if err := a.Exactly(ctx, c, nil, l, run.ns, labels); err != nil {
				return err
			}
		}
		return nil
	}
	if !r.Kinds.Assets {
		run.verdict.Side(verdict.Stalled(saasv1.ConditionAssetsReady, "ACKMissing",
			"spec.assets needs the ACK S3 and CloudFront controllers: their CRDs are not installed (install them: the operator notices within a minute and restarts to watch them)"))
		return nil
	}

	live := &cloudfront.Distribution{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: run.ns, Name: b.AssetsName}, live); client.IgnoreNotFound(err) != nil {
		return err
	}
	distARN := ""
	if m := live.Status.ACKResourceMetadata; m != nil && m.ARN != nil {
		distARN = string(*m.ARN)
	}
	bucket := b.AssetsBucket(c, distARN)
	oac := b.AssetsOriginAccessControl(c)
	for _, o := range []client.Object{bucket, oac, b.AssetsPublisherServiceAccount(c)} {
		if _, err := a.Ensure(ctx, c, o); err != nil {
			return verdict.RefusedSide(&run.verdict, saasv1.ConditionAssetsReady, "InvalidAssets", err)
		}
	}
	states := map[string]ack.State{"S3 bucket " + c.Spec.Assets.BucketName: ack.ReadState(bucket.Status.Conditions),
		"CloudFront origin access control": ack.ReadState(oac.Status.Conditions)}
	if oac.Status.ID == nil {
		run.verdict.Side(verdict.Waiting(saasv1.ConditionAssetsReady, "WaitingForOriginAccessControl", "waiting for CloudFront to make the origin access control"))
		return nil
	}
	dist := b.AssetsDistribution(c, *oac.Status.ID)
	if _, err := a.Ensure(ctx, c, dist); err != nil {
		return verdict.RefusedSide(&run.verdict, saasv1.ConditionAssetsReady, "InvalidDistribution", err)
	}
	states["CloudFront distribution"] = ack.ReadState(dist.Status.Conditions)
	domain := ""
	if dist.Status.DomainName != nil {
		domain = *dist.Status.DomainName
	}
	aliasAnswers := false
	if c.Spec.Assets.Alias != "" && domain != "" {
		rec := b.AssetsRecordSet(c, domain)
		if _, err := a.Ensure(ctx, c, rec); err != nil {
			return verdict.RefusedSide(&run.verdict, saasv1.ConditionAssetsReady, "InvalidRecord", err)
		}
		st := ack.ReadState(rec.Status.Conditions)
		states["Route53 record "+c.Spec.Assets.Alias], aliasAnswers = st, st.Synced
	}

	owner, notOurs := bucketOwner(c, bucket)
	if notOurs != "" {
		// Every page's script origin would be a bucket the operator does not control.
		c.Status.AssetsURL, c.Status.AssetsVersions = "", nil
		run.verdict.Side(verdict.Stalled(saasv1.ConditionAssetsReady, "BucketNotOurs", notOurs))
		return nil
	}
	published, pending, failed, err := r.publishAssets(ctx, run, owner)
	if err != nil {
		return err
	}
	deployed := dist.Status.Status != nil && *dist.Status.Status == cloudfront.StatusDeployed && domain != ""
	c.Status.AssetsVersions = nil
	if deployed && owner != "" {
		c.Status.AssetsVersions = published
	}
	c.Status.AssetsURL = ""
	if deployed && owner != "" && slices.Contains(published, rollout.ServingOrWanted(c)) {
		// The alias once Route53 answers for it; the distribution's own domain until then.
		c.Status.AssetsURL = b.AssetsURL(c, domain, aliasAnswers)
	}
	name, st := verdict.ACKReport(states)
	switch {
	case st.Terminal:
		run.verdict.Side(verdict.Stalled(saasv1.ConditionAssetsReady, st.Reason, name+": "+st.Message))
	case len(failed) > 0:
		run.verdict.Side(verdict.Stalled(saasv1.ConditionAssetsReady, "PublishFailed", fmt.Sprintf(
			"publishing the files of %s failed (Job %s/%s): check that the role %s may write %s (docs/operations.md gives its policy); delete the Job to retry",
			strings.Join(failed, ", "), run.ns, b.PublishAssetsJob(c, failed[0], owner).Name, c.Spec.Assets.PublisherRoleARN, c.Spec.Assets.BucketName)))
	case name != "":
		run.verdict.Side(verdict.Waiting(saasv1.ConditionAssetsReady, st.Reason, name+": "+st.Message))
	case owner == "":
		run.verdict.Side(verdict.Waiting(saasv1.ConditionAssetsReady, "WaitingForBucket", "waiting for ACK to report the bucket's owner account"))
	case !deployed:
		run.verdict.Side(verdict.Waiting(saasv1.ConditionAssetsReady, "Deploying", "CloudFront is deploying the distribution to its edge locations"))
	case len(pending) > 0:
		run.verdict.Side(verdict.Waiting(saasv1.ConditionAssetsReady, "PublishingAssets", "publishing the files of "+strings.Join(pending, ", ")))
	default:
		run.verdict.Side(verdict.Ready(saasv1.ConditionAssetsReady, "Serving", fmt.Sprintf("files of %s served at %s", strings.Join(published, ", "), c.Status.AssetsURL)))
	}
	return nil
}

// bucketOwner is the account the cell's bucket belongs to, as ACK reports it once it made the
// bucket (empty until then), or why the operator neither publishes to it nor serves from it:
// ACK was asked to adopt a bucket that existed before (someone else's files), or the bucket
// lives in another account than the role that publishes to it.
func bucketOwner(c *saasv1.RegionCell, bucket *s3.Bucket) (owner, refusal string) {
	a := bucket.GetAnnotations()
	if a[ack.AnnotationAdopted] == "true" || a[ack.AnnotationAdoptionPolicy] != "" {
		return "", fmt.Sprintf("the Bucket %s/%s carries ACK's adoption annotations: the operator serves pages' files only from a bucket ACK created for it; remove %s and %s, and name a new bucket in spec.assets",
			bucket.Namespace, bucket.Name, ack.AnnotationAdopted, ack.AnnotationAdoptionPolicy)
	}
	m := bucket.Status.ACKResourceMetadata
	if m == nil || m.OwnerAccountID == nil || *m.OwnerAccountID == "" || !ack.ReadState(bucket.Status.Conditions).Synced {
		return "", ""
	}
	owner = string(*m.OwnerAccountID)
	if arn := c.Spec.Assets.PublisherRoleARN; arn != "" {
		if parts := strings.Split(arn, ":"); len(parts) > 4 && parts[4] != owner {
			return "", fmt.Sprintf("bucket %s belongs to account %s, but the publisher role %s is of account %s: the operator publishes only to a bucket of its own account",
				c.Spec.Assets.BucketName, owner, arn, parts[4])
		}
	}
	return owner, ""
}

// publishAssets runs a publishing Job for each version the cell's apps run or are about to, and
// removes those of versions no longer in use. It says which versions are published, which are
// being published, and which failed.
//
// A Job is never updated (the API server refuses a new pod template): a version published once
// is published, and its Job is history, left alone whatever the builder now makes of it; a
// version not yet published gets the Job the builder makes now (named after its hash), and the
// older, unfinished or failed Jobs of that version go. So a registry move, an operator upgrade
// or a new bucket owner starts a new Job instead of stopping the cell at this step.
func (r *Reconciler) publishAssets(ctx context.Context, run *cellRun, owner string) (published, pending, failed []string, err error) {
	c := run.cell
	a := r.applier()
	jobs, err := r.publishJobs(ctx, run)
	if err != nil {
		return nil, nil, nil, err
	}
	keep := map[string]bool{}
	for _, v := range rollout.VersionsInUse(c, run.tenants) {
		if done := succeededJob(jobs, v); done != "" {
			published, keep[done] = append(published, v), true
			continue
		}
		if owner == "" {
			pending = append(pending, v) // published once ACK says whose the bucket is
			continue
		}
		job := b.PublishAssetsJob(c, v, owner)
		if _, err := a.Ensure(ctx, c, job); err != nil {
			return nil, nil, nil, err
		}
		keep[job.Name] = true
		switch done, bad := report.JobFinished(job); {
		case done && !bad:
			published = append(published, v)
		case done:
			failed = append(failed, v)
		default:
			pending = append(pending, v)
		}
	}
	for i := range jobs {
		j := &jobs[i]
		if keep[j.Name] || !j.DeletionTimestamp.IsZero() {
			continue
		}
		if _, err := a.Absent(ctx, &batchv1.Job{}, client.ObjectKeyFromObject(j)); err != nil {
			return nil, nil, nil, err
		}
	}
	return published, pending, failed, nil
}

// succeededJob is the name of a Job of jobs that published version, if one did.
func succeededJob(jobs []batchv1.Job, version string) string {
	for i := range jobs {
		j := &jobs[i]
		if done, bad := report.JobFinished(j); j.Annotations[b.AnnotationAppVersion] == version && done && !bad && j.DeletionTimestamp.IsZero() {
			return j.Name
		}
	}
	return ""
}

// published says whether the files of version are on the cell's bucket: a publishing Job of
// that version succeeded (the assets step makes the Job; its end wakes the cell).
func (r *Reconciler) published(ctx context.Context, run *cellRun, version string) bool {
	jobs, err := r.publishJobs(ctx, run)
	return err == nil && succeededJob(jobs, version) != ""
}

// publishJobs are the cell's publishing Jobs as the cache holds them, read once a reconcile (the
// rollout step asks before the assets step, which reads them too).
func (r *Reconciler) publishJobs(ctx context.Context, run *cellRun) ([]batchv1.Job, error) {
	if run.publishJobs == nil {
		var jobs batchv1.JobList
		if err := r.List(ctx, &jobs, client.InNamespace(run.ns), client.MatchingLabels(b.CellLabels(run.cell, b.ComponentAssets))); err != nil {
			return nil, err
		}
		run.publishJobs = append([]batchv1.Job{}, jobs.Items...)
	}
	return run.publishJobs, nil
}
