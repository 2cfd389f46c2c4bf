package builders

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func assetsCell(alias string) *saasv1.RegionCell {
	c := testCell()
	c.Spec.Assets = &saasv1.CellAssets{BucketName: "tenantops-eu1-assets", PriceClass: "PriceClass_100", NoncurrentVersionDays: 30,
		PublisherRoleARN: "arn:aws:iam::123456789012:role/assets"}
	if alias != "" {
		c.Spec.Assets.Alias, c.Spec.Assets.CertificateARN = alias, "arn:aws:acm:us-east-1:123456789012:certificate/abc"
	}
	return c
}

func TestAssets(t *testing.T) {
	c := assetsCell("")
	const dist = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
	private, withPolicy := AssetsBucket(c, ""), AssetsBucket(c, dist)
	var policy struct {
		Statement []struct {
			Effect, Action, Resource string
			Principal                map[string]string
			Condition                map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(*withPolicy.Spec.Policy), &policy); err != nil {
		t.Fatal(err)
	}
	pab := private.Spec.PublicAccessBlock
	d := AssetsDistribution(c, "E3OAC")
	o := d.Spec.DistributionConfig.Origins.Items[0]
	aliased := AssetsDistribution(assetsCell("static.website.com"), "E3OAC")
	rec := AssetsRecordSet(assetsCell("static.website.com"), "d111111abcdef8.cloudfront.net")
	job := PublishAssetsJob(c, "v1.2.0", "123456789012")
	moved := assetsCell("")
	moved.Spec.App.Image = "registry.example/tenantops/app"
	long := PublishAssetsJob(c, strings.Repeat("1.2.3-rc", 10), "123456789012")
	checks := []struct {
		what      string
		got, want any
	}{
		{"public access blocked on all four counts", fmt.Sprint(*pab.BlockPublicACLs, *pab.BlockPublicPolicy, *pab.IgnorePublicACLs, *pab.RestrictPublicBuckets), "true true true true"},
		{"no ACLs: the owner owns every object", *private.Spec.OwnershipControls.Rules[0].ObjectOwnership, "BucketOwnerEnforced"},
		{"encrypted", *private.Spec.Encryption.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm, "AES256"},
		{"versioned, old versions expired", fmt.Sprint(*private.Spec.Versioning.Status, " ", *private.Spec.Lifecycle.Rules[0].NoncurrentVersionExpiration.NoncurrentDays), "Enabled 30"},
		{"kept in AWS when its object goes", private.Annotations["services.k8s.aws/deletion-policy"], "retain"},
		{"no policy before the distribution exists", private.Spec.Policy == nil, true},
		{"the policy lets the one distribution read, nothing else", fmt.Sprint(len(policy.Statement), " ", policy.Statement[0].Effect, " ",
			policy.Statement[0].Principal["Service"], " ", policy.Statement[0].Action, " ", policy.Statement[0].Resource, " ",
			policy.Statement[0].Condition["StringEquals"]["AWS:SourceArn"]),
			"1 Allow cloudfront.amazonaws.com s3:GetObject arn:aws:s3:::tenantops-eu1-assets/* " + dist},
		{"the bucket is the only origin, signed", fmt.Sprint(len(d.Spec.DistributionConfig.Origins.Items), " ", *o.DomainName, " ", *o.OriginAccessControlID),
			"1 tenantops-eu1-assets.s3.eu-west-1.amazonaws.com E3OAC"},
		{"HTTPS only, the cache policy for immutable files", fmt.Sprint(*d.Spec.DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy, " ",
			*d.Spec.DistributionConfig.DefaultCacheBehavior.CachePolicyID), "https-only 658327ea-f89d-4fab-a63d-7e88639e58f6"},
		{"price class", *d.Spec.DistributionConfig.PriceClass, "PriceClass_100"},
		{"no alias: CloudFront's certificate", *d.Spec.DistributionConfig.ViewerCertificate.CloudFrontDefaultCertificate, true},
		{"an alias with its certificate", fmt.Sprint(*aliased.Spec.DistributionConfig.Aliases.Items[0], " ", *aliased.Spec.DistributionConfig.ViewerCertificate.SSLSupportMethod),
			"static.website.com sni-only"},
		{"the alias record, relative to the zone", fmt.Sprint(*rec.Spec.Name, " ", *rec.Spec.AliasTarget.DNSName, " ", *rec.Spec.AliasTarget.HostedZoneID),
			"static d111111abcdef8.cloudfront.net Z2FDTNDATAQYW2"},
		{"URL without an alias, with one Route53 answers for, with one it does not yet", AssetsURL(c, "d1.cloudfront.net", true) + " " +
			AssetsURL(assetsCell("static.website.com"), "d1.cloudfront.net", true) + " " + AssetsURL(assetsCell("static.website.com"), "d1.cloudfront.net", false),
			"https://d1.cloudfront.net/static https://static.website.com/static https://d1.cloudfront.net/static"},
		{"the publishing Job, checking the bucket's owner", fmt.Sprint(job.Spec.Template.Spec.Containers[0].Image, " ", job.Spec.Template.Spec.Containers[0].Args),
			"ghcr.io/tenantops/app:v1.2.0 [publish-assets --bucket=tenantops-eu1-assets --prefix=static --region=eu-west-1 --expected-bucket-owner=123456789012]"},
		{"named after its version and what it runs", strings.HasPrefix(job.Name, "publish-assets-v1-2-0-") && len(job.Name) == len("publish-assets-v1-2-0-")+8, true},
		{"the same Job, the same name", PublishAssetsJob(c, "v1.2.0", "123456789012").Name, job.Name},
		{"a registry move is another Job", PublishAssetsJob(moved, "v1.2.0", "123456789012").Name != job.Name, true},
		{"another owner is another Job", PublishAssetsJob(c, "v1.2.0", "210987654321").Name != job.Name, true},
		{"the origin access control's name is unique across regions (CloudFront is global)", *AssetsOriginAccessControl(c).Spec.OriginAccessControlConfig.Name, "tenantops-eu-west-1-eu1"},
		{"a long version still makes a name", len(long.Name) <= 63 && !strings.Contains(long.Name, "--"), true},
		{"as the publisher's IRSA role", fmt.Sprint(job.Spec.Template.Spec.ServiceAccountName, " ", AssetsPublisherServiceAccount(c).Annotations["eks.amazonaws.com/role-arn"]),
			"asset-publisher arn:aws:iam::123456789012:role/assets"},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s:\n got  %v\n want %v", ch.what, ch.got, ch.want)
		}
	}
}
