package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudfront"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
)

// Names of the assets children.
const (
	AssetsName      = "assets"
	ComponentAssets = "assets"
	// AssetsPrefix is where the files live in the bucket and under the distribution: the same
	// for every app version, since every file is named after a hash of its content.
	AssetsPrefix = "static"
	// AssetsPublisherName is the ServiceAccount of the publishing Jobs (IRSA: the role that may
	// write the bucket).
	AssetsPublisherName = "asset-publisher"
	// assetsOriginID names the bucket among the distribution's origins.
	assetsOriginID = "s3-assets"
	// cachingOptimizedPolicyID is CloudFront's managed CachingOptimized cache policy: long TTLs,
	// no cookies, headers or query strings in the key; right for files that never change.
	cachingOptimizedPolicyID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	// CloudFrontHostedZoneID is the hosted zone of every CloudFront distribution, for aliases.
	CloudFrontHostedZoneID = "Z2FDTNDATAQYW2"
)

// AssetsBucket is the cell's private S3 bucket of static files: no public access of any kind,
// objects owned by the bucket's owner (no ACLs), encrypted, versioned with old versions expired.
// Only the cell's distribution may read it (distributionARN, once CloudFront made it). The bucket
// is kept in AWS when its object goes: the files of every version the app ran stay servable.
func AssetsBucket(c *saasv1.RegionCell, distributionARN string) *s3.Bucket {
	a := c.Spec.Assets
	bkt := &s3.Bucket{
		ObjectMeta: metav1.ObjectMeta{Name: AssetsName, Namespace: CellNamespace(c), Labels: CellLabels(c, ComponentAssets),
			Annotations: map[string]string{ack.AnnotationDeletionPolicy: "retain"}},
		Spec: s3.BucketSpec{
			Name: ptr(a.BucketName),
			PublicAccessBlock: &s3.PublicAccessBlockConfiguration{BlockPublicACLs: ptr(true), BlockPublicPolicy: ptr(true),
				IgnorePublicACLs: ptr(true), RestrictPublicBuckets: ptr(true)},
			OwnershipControls: &s3.OwnershipControls{Rules: []*s3.OwnershipControlsRule{{ObjectOwnership: ptr("BucketOwnerEnforced")}}},
			Encryption: &s3.ServerSideEncryptionConfiguration{Rules: []*s3.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3.ServerSideEncryptionByDefault{SSEAlgorithm: ptr("AES256")}, BucketKeyEnabled: ptr(true)}}},
			Versioning: &s3.VersioningConfiguration{Status: ptr("Enabled")},
			Lifecycle: &s3.BucketLifecycleConfiguration{Rules: []*s3.LifecycleRule{{
				ID: ptr("expire-old-versions"), Status: ptr("Enabled"), Filter: &s3.LifecycleRuleFilter{Prefix: ptr("")},
				NoncurrentVersionExpiration:    &s3.NoncurrentVersionExpiration{NoncurrentDays: ptr(int64(a.NoncurrentVersionDays))},
				AbortIncompleteMultipartUpload: &s3.AbortIncompleteMultipartUpload{DaysAfterInitiation: ptr(int64(7))},
			}}},
			Tagging: &s3.Tagging{TagSet: []*s3.Tag{{Key: ptr("tenantops:cell"), Value: ptr(c.Name)}, {Key: ptr("tenantops:managed-by"), Value: ptr(saasv1.LabelManagedByValue)}}},
		},
	}
	if distributionARN != "" {
		bkt.Spec.Policy = ptr(BucketPolicy(a.BucketName, distributionARN))
	}
	return bkt
}

// BucketPolicy lets one CloudFront distribution, and nothing else, read the bucket's objects.
func BucketPolicy(bucket, distributionARN string) string {
	policy := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "CloudFrontReadsAssets",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "cloudfront.amazonaws.com"},
			"Action":    "s3:GetObject",
			"Resource":  "arn:aws:s3:::" + bucket + "/*",
			"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceArn": distributionARN}},
		}},
	}
	raw, _ := json.Marshal(policy) // maps and strings only: it cannot fail
	return string(raw)
}

// AssetsOriginAccessControl makes the distribution sign every request to the bucket (SigV4), so
// the bucket can stay private.
func AssetsOriginAccessControl(c *saasv1.RegionCell) *cloudfront.OriginAccessControl {
	return &cloudfront.OriginAccessControl{
		ObjectMeta: metav1.ObjectMeta{Name: AssetsName, Namespace: CellNamespace(c), Labels: CellLabels(c, ComponentAssets)},
		Spec: cloudfront.OriginAccessControlSpec{OriginAccessControlConfig: &cloudfront.OriginAccessControlConfig{
			Name: ptr(OriginAccessControlName(c)), Description: ptr("tenant-operator: cell " + c.Name + " reads its assets bucket"),
			OriginAccessControlOriginType: ptr("s3"), SigningBehavior: ptr("always"), SigningProtocol: ptr("sigv4"),
		}},
	}
}

// OriginAccessControlName is the origin access control's name, unique in the account across
// every region (CloudFront is global): the cell's region and name, as a database identifier is
// the cell's name within its region.
func OriginAccessControlName(c *saasv1.RegionCell) string {
	return truncate("tenantops-"+c.Spec.Region+"-"+c.Name, 64)
}

// AssetsDistribution serves the bucket over HTTPS only, from its one origin, with the cache
// policy for files that never change, at the spec's price class and, optionally, its alias.
func AssetsDistribution(c *saasv1.RegionCell, originAccessControlID string) *cloudfront.Distribution {
	a := c.Spec.Assets
	cfg := &cloudfront.DistributionConfig{
		Comment:       ptr("tenant-operator assets of cell " + c.Name),
		Enabled:       ptr(true),
		HTTPVersion:   ptr("http2and3"),
		IsIPV6Enabled: ptr(true),
		PriceClass:    ptr(a.PriceClass),
		Origins: &cloudfront.Origins{Items: []*cloudfront.Origin{{
			ID: ptr(assetsOriginID), DomainName: ptr(a.BucketName + ".s3." + c.Spec.Region + ".amazonaws.com"),
			OriginAccessControlID: ptr(originAccessControlID),
			// With an origin access control, the legacy identity stays empty.
			S3OriginConfig: &cloudfront.S3OriginConfig{OriginAccessIdentity: ptr("")},
		}}},
		DefaultCacheBehavior: &cloudfront.DefaultCacheBehavior{
			TargetOriginID: ptr(assetsOriginID), ViewerProtocolPolicy: ptr("https-only"), CachePolicyID: ptr(cachingOptimizedPolicyID),
			Compress: ptr(true),
			AllowedMethods: &cloudfront.AllowedMethods{Items: []*string{ptr("GET"), ptr("HEAD")},
				CachedMethods: &cloudfront.CachedMethods{Items: []*string{ptr("GET"), ptr("HEAD")}}},
		},
		ViewerCertificate: &cloudfront.ViewerCertificate{CloudFrontDefaultCertificate: ptr(true)},
	}
	if a.Alias != "" {
		cfg.Aliases = &cloudfront.StringItems{Items: []*string{ptr(a.Alias)}}
		cfg.ViewerCertificate = &cloudfront.ViewerCertificate{ACMCertificateARN: ptr(a.CertificateARN), SSLSupportMethod: ptr("sni-only"),
			MinimumProtocolVersion: ptr("TLSv1.2_2021")}
	}
	return &cloudfront.Distribution{
		ObjectMeta: metav1.ObjectMeta{Name: AssetsName, Namespace: CellNamespace(c), Labels: CellLabels(c, ComponentAssets)},
		Spec: cloudfront.DistributionSpec{DistributionConfig: cfg,
			Tags: []*cloudfront.Tag{{Key: ptr("tenantops:cell"), Value: ptr(c.Name)}, {Key: ptr("tenantops:managed-by"), Value: ptr(saasv1.LabelManagedByValue)}}},
	}
}

// AssetsRecordSet aliases spec.assets.alias to the distribution, in the cell's hosted zone.
func AssetsRecordSet(c *saasv1.RegionCell, distributionDomain string) *route53.RecordSet {
	return &route53.RecordSet{
		ObjectMeta: metav1.ObjectMeta{Name: AssetsName, Namespace: CellNamespace(c), Labels: CellLabels(c, ComponentAssets)},
		Spec: route53.RecordSetSpec{
			Name:         ptr(strings.TrimSuffix(c.Spec.Assets.Alias, "."+c.Spec.BaseDomain)),
			HostedZoneID: ptr(c.Spec.HostedZoneID),
			RecordType:   ptr("A"),
			AliasTarget: &route53.AliasTarget{DNSName: ptr(distributionDomain), HostedZoneID: ptr(CloudFrontHostedZoneID),
				EvaluateTargetHealth: ptr(false)},
		},
	}
}

// AssetsURL is where the cell's files are served once the distribution is deployed: at the
// alias once Route53 answers for it, at the distribution's own domain until then.
func AssetsURL(c *saasv1.RegionCell, distributionDomain string, aliasAnswers bool) string {
	host := distributionDomain
	if a := c.Spec.Assets; a != nil && a.Alias != "" && aliasAnswers {
		host = a.Alias
	}
	return "https://" + host + "/" + AssetsPrefix
}

// AssetsPublisherServiceAccount is the identity the publishing Jobs write the bucket as.
func AssetsPublisherServiceAccount(c *saasv1.RegionCell) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: AssetsPublisherName, Namespace: CellNamespace(c), Labels: CellLabels(c, ComponentAssets)}}
	if arn := c.Spec.Assets.PublisherRoleARN; arn != "" {
		sa.Annotations = map[string]string{"eks.amazonaws.com/role-arn": arn}
	}
	return sa
}

// PublishAssetsJob runs `app publish-assets` of version: it uploads the files that version's
// pages load, those the bucket (of account bucketOwner, checked on every S3 call) lacks, with
// their content type and immutable caching. Its name ends in a hash of the whole Job, so a
// change to what it runs (a registry move, another operator's builder) is a new Job, never an
// update of a Job's pod template, which the API server refuses.
func PublishAssetsJob(c *saasv1.RegionCell, version, bucketOwner string) *batchv1.Job {
	labels := CellLabels(c, ComponentAssets)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: CellNamespace(c), Labels: labels,
			Annotations: map[string]string{AnnotationAppVersion: version}},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr(int32(3)),
			ActiveDeadlineSeconds: ptr(int64(900)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: AssetsPublisherName,
					RestartPolicy:      corev1.RestartPolicyNever,
					SecurityContext:    restrictedPodSecurityContext(),
					Containers: []corev1.Container{{
						Name: "publish", Image: Image(c, version),
						Args: []string{"publish-assets", "--bucket=" + c.Spec.Assets.BucketName, "--prefix=" + AssetsPrefix,
							"--region=" + c.Spec.Region, "--expected-bucket-owner=" + bucketOwner},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
						SecurityContext: RestrictedSecurityContext(),
					}},
				},
			},
		},
	}
	spec, _ := json.Marshal(job.Spec) // plain data: it cannot fail
	sum := sha256.Sum256(spec)
	v := strings.Trim(notLabel.ReplaceAllString(strings.ToLower(version), "-"), "-")
	job.Name = strings.TrimRight(truncate("publish-assets-"+v, 63-9), "-") + "-" + hex.EncodeToString(sum[:])[:8]
	return job
}
