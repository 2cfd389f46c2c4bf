package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RegionCellSpec describes one AWS region's copy of the architecture: where tenants' DNS names
// live, the load balancer in front of the app, the private network the databases and caches sit
// in, what a new tenant gets by default, and the shared app that serves pooled tenants.
//
// +kubebuilder:validation:XValidation:rule="!has(self.notifications) || !has(self.notifications.webhooks) || size(self.notifications.webhooks) == 0 || has(self.notifications.hmacSecretRef)",message="spec.notifications.hmacSecretRef is required when webhooks are set: every webhook delivery is signed"
// +kubebuilder:validation:XValidation:rule="!has(self.assets) || !has(self.assets.alias) || self.assets.alias.endsWith('.' + self.baseDomain)",message="spec.assets.alias must be a name in spec.baseDomain, whose hosted zone gets its record"
// +kubebuilder:validation:XValidation:rule="!has(self.disasterRecovery) || self.disasterRecovery.partnerRegion != self.region",message="spec.disasterRecovery.partnerRegion must differ from spec.region: a copy in the home region is lost with it"
type RegionCellSpec struct {
	// Region is the AWS region this cell runs in, such as eu-west-1. Tenants whose
	// spec.region equals it are served here; their data never leaves it. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.region is immutable: a cell cannot move to another region"
	// +kubebuilder:validation:XValidation:rule="self.matches('^(us|eu|ap|sa|ca|me|af|il|mx)(-gov|-iso|-isob)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[1-9]$')",message="spec.region must be an AWS region name such as eu-west-1"
	// +kubebuilder:validation:MaxLength=32
	Region string `json:"region"`

	// BaseDomain is the DNS zone tenants get their names in: a tenant with subdomain
	// "acme" is served at acme.<baseDomain>.
	// +kubebuilder:validation:MaxLength=190
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\\\.)+[a-z]{2,63}$')",message="spec.baseDomain must be a lower-case DNS name such as website.com"
	BaseDomain string `json:"baseDomain"`

	// HostedZoneID is the Route53 hosted zone of baseDomain, where tenant records are written.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^Z[A-Z0-9]{1,31}$')",message="spec.hostedZoneID must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ"
	HostedZoneID string `json:"hostedZoneID"`

	// Ingress is the load balancer in front of the app (layer 1 of the design: 80 and 443 only).
	Ingress CellIngress `json:"ingress"`

	// Network is the private network tenant databases and caches live in; nothing outside it
	// reaches them.
	Network CellNetwork `json:"network"`

	// Database holds the defaults every tenant database of this cell starts from.
	// +kubebuilder:default={}
	Database DatabaseDefaults `json:"database,omitempty"`

	// Cache holds the shape of the cell's shared cache and the default for dedicated tenants'.
	// +kubebuilder:default={}
	Cache CacheDefaults `json:"cache,omitempty"`

	// App is the multi-tenant app: the shared Deployment for pooled tenants, and the template
	// for dedicated tenants' own.
	App CellApp `json:"app"`

	// Autoscaling sets when the app scales out and in. See AutoscalingPolicy.
	// +kubebuilder:default={scaleOutAtPercent:80,scaleInAtPercent:10,scaleDownStabilizationSeconds:300,scaleUpStabilizationSeconds:0}
	Autoscaling AutoscalingPolicy `json:"autoscaling,omitempty"`

	// Spot places batch work (recommendation runs) on spot capacity first.
	// +optional
	Spot SpotScheduling `json:"spot,omitempty"`

	// Capacity limits how many tenants this cell takes.
	// +kubebuilder:default={}
	Capacity CellCapacity `json:"capacity,omitempty"`

	// Notifications receive lifecycle events of this cell's tenants (the design's signup flow
	// to the control panel, CRM and billing).
	// +optional
	Notifications *Notifications `json:"notifications,omitempty"`

	// Email is how the app sends tenants' mail through SES.
	// +optional
	Email *EmailSettings `json:"email,omitempty"`

	// Assets publishes the app's static files (stylesheet, script, images) to an S3 bucket of
	// the cell, served through a CloudFront distribution; without it the app serves them itself.
	// +optional
	Assets *CellAssets `json:"assets,omitempty"`

	// Alerts makes CloudWatch alarms on heavy and low use of the cell's and its tenants'
	// databases, cache and load balancer, sent to an SNS topic of the cell.
	// +optional
	Alerts *CellAlerts `json:"alerts,omitempty"`

	// DisasterRecovery copies every tenant database of the cell to a partner region of the same
	// jurisdiction, where the partner region's operator can restore it (docs/operations.md,
	// "Disaster recovery"). Tenants may opt out or ask for copies more often.
	// +optional
	DisasterRecovery *CellDisasterRecovery `json:"disasterRecovery,omitempty"`
}

// CellDisasterRecovery is where and how often tenant databases are copied out of the region.
//
// +kubebuilder:validation:XValidation:rule="!self.kmsKeyID.startsWith('arn:') || self.kmsKeyID.split(':')[3] == self.partnerRegion",message="spec.disasterRecovery.kmsKeyID must be a key of the partner region: RDS encrypts a copy with a key of the region it copies to"
type CellDisasterRecovery struct {
	// PartnerRegion receives the copies and takes the tenants over when the home region is
	// lost. It must be in the home region's jurisdiction as the operator was configured
	// (chart value disasterRecovery.jurisdictions); a partner outside it is refused.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^(us|eu|ap|sa|ca|me|af|il|mx)(-gov|-iso|-isob)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[1-9]$')",message="spec.disasterRecovery.partnerRegion must be an AWS region name such as eu-central-1"
	PartnerRegion string `json:"partnerRegion"`

	// KMSKeyID encrypts the copies in the partner region: a key ID, alias/<name> or ARN of a
	// key there. Tenant databases are encrypted, and RDS copies an encrypted snapshot to
	// another region only under a key of that region.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^(alias/[A-Za-z0-9/_-]+|[0-9a-f-]{36}|arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:[0-9]{12}:(key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]+))$')",message="spec.disasterRecovery.kmsKeyID must be a KMS key ID, alias/<name>, or a key or alias ARN of the partner region"
	KMSKeyID string `json:"kmsKeyID"`

	// CopyInterval is how often each tenant's newest snapshot reaches the partner region: the
	// recovery point objective, plus the time a copy takes. Below 15m, RDS's snapshot and copy
	// times dominate; short intervals are for tests.
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('10s') && duration(self) <= duration('24h')",message="spec.disasterRecovery.copyInterval must be a duration between 10s and 24h, such as 1h"
	CopyInterval string `json:"copyInterval,omitempty"`

	// RetainCopies is how many copies of each tenant the partner region keeps; older ones are
	// deleted once a newer copy is there.
	// +kubebuilder:default=24
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	RetainCopies int32 `json:"retainCopies,omitempty"`

	// StandbyDBSubnetGroupName is the RDS subnet group, in the partner region, that warm
	// standbys (a dedicated tenant's spec.disasterRecovery.standby) are placed in: private
	// subnets of the partner cell's VPC. Without it RDS uses the partner region's default VPC.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	StandbyDBSubnetGroupName string `json:"standbyDBSubnetGroupName,omitempty"`

	// StandbySecurityGroupIDs are the partner region's security groups of the standbys: the
	// partner cell's database groups (spec.network.dbSecurityGroupIDs there), so that its app
	// reaches a promoted standby.
	// +optional
	// +kubebuilder:validation:MaxItems=5
	StandbySecurityGroupIDs []string `json:"standbySecurityGroupIDs,omitempty"`

	// StandbyMaxLag is the replica lag past which a standby is reported lagging (the tenant's
	// StandbyReady condition False, an Event, and the TenantStandbyLagging alert).
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('24h')",message="spec.disasterRecovery.standbyMaxLag must be a duration between 1s and 24h, such as 5m"
	StandbyMaxLag string `json:"standbyMaxLag,omitempty"`
}

// CellAssets is where the app's static files live and how they are served.
//
// +kubebuilder:validation:XValidation:rule="!has(self.alias) || has(self.certificateARN)",message="spec.assets.certificateARN is required with spec.assets.alias: CloudFront serves an alias only with its certificate"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.alias) || !has(self.alias) || self.alias == oldSelf.alias",message="spec.assets.alias cannot be changed in one step: pages load their files from it; remove it first (pages move to the distribution's own domain), then set the new one"
type CellAssets struct {
	// BucketName is the S3 bucket the files are published to, unique across AWS. It is kept
	// when the cell goes (the files of every version the app ran). Immutable: a distribution
	// pointed at a new bucket would serve nothing until every version is published there.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.assets.bucketName is immutable: the CDN would point at a bucket nothing was published to; to use another bucket, remove spec.assets (pages fall back to the app's own files), then set it again"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9][a-z0-9.-]*[a-z0-9]$') && !self.contains('..') && !self.matches('^[0-9]+\\\\.[0-9]+\\\\.[0-9]+\\\\.[0-9]+$')",message="spec.assets.bucketName must be an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', not an IP address"
	BucketName string `json:"bucketName"`

	// PriceClass of the CloudFront distribution: which edge locations serve the files.
	// +kubebuilder:default=PriceClass_100
	// +kubebuilder:validation:Enum=PriceClass_100;PriceClass_200;PriceClass_All
	PriceClass string `json:"priceClass,omitempty"`

	// Alias is a host name the distribution also answers at, such as static.website.com; a
	// Route53 alias record for it is made in the cell's hosted zone. Pages load their files from
	// it once Route53 has the record; until then from the distribution's own domain. It can be
	// set or removed, not changed in one step.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\\\.)+[a-z]{2,63}$')",message="spec.assets.alias must be a lower-case DNS name such as static.website.com"
	Alias string `json:"alias,omitempty"`

	// CertificateARN is the ACM certificate CloudFront serves the alias with; CloudFront takes
	// certificates from us-east-1 only.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^arn:aws(-[a-z]+)*:acm:us-east-1:[0-9]{12}:certificate/[A-Za-z0-9-]+$')",message="spec.assets.certificateARN must be an ACM certificate ARN in us-east-1, where CloudFront takes its certificates"
	CertificateARN string `json:"certificateARN,omitempty"`

	// PublisherRoleARN is the IAM role the publishing Job assumes (IRSA) to write the bucket.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\\\\w+=,.@/-]+$')",message="spec.assets.publisherRoleARN must be an IAM role ARN such as arn:aws:iam::123456789012:role/assets-publisher"
	PublisherRoleARN string `json:"publisherRoleARN,omitempty"`

	// NoncurrentVersionDays is how long S3 keeps a file's older versions (the bucket is
	// versioned) before they expire.
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3650
	NoncurrentVersionDays int32 `json:"noncurrentVersionDays,omitempty"`
}

// CellAlerts is what the cell alarms on and whom it tells.
type CellAlerts struct {
	// TopicName is the SNS topic the cell makes for its alarms (and, with lifecycleEvents, its
	// tenants' lifecycle events). Defaults to tenantops-<cell>.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_-]{1,256}$')",message="spec.alerts.topicName must be 1-256 letters, digits, '-' and '_'"
	TopicName string `json:"topicName,omitempty"`

	// KMSKeyID encrypts the topic's messages at rest (a key ID, alias or ARN): a customer
	// managed key whose policy lets cloudwatch.amazonaws.com use kms:Decrypt and
	// kms:GenerateDataKey* (docs/operations.md). Not the AWS-managed alias/aws/sns, whose policy
	// CloudWatch cannot be given: alarms would be lost.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="!(self == 'alias/aws/sns' || self.endsWith(':alias/aws/sns'))",message="spec.alerts.kmsKeyID cannot be alias/aws/sns: CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, so alarms would be lost; use a customer managed key that allows cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*"
	// +kubebuilder:validation:XValidation:rule="self.matches('^(alias/[A-Za-z0-9/_-]+|[0-9a-f-]{36}|arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:[0-9]{12}:(key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]+))$')",message="spec.alerts.kmsKeyID must be a KMS key ID, alias/<name>, or a key or alias ARN"
	KMSKeyID string `json:"kmsKeyID,omitempty"`

	// Emails subscribe to the topic; each must confirm its subscription.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.all(e, e.matches('^[^@\\\\s]+@([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?\\\\.)+[A-Za-z]{2,63}$'))",message="spec.alerts.emails must be e-mail addresses such as oncall@website.com"
	// +listType=set
	Emails []string `json:"emails,omitempty"`

	// HTTPSEndpoints subscribe to the topic (an incident tool's SNS endpoint).
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.all(u, isURL(u) && u.startsWith('https://'))",message="spec.alerts.httpsEndpoints must be https:// URLs"
	// +listType=set
	HTTPSEndpoints []string `json:"httpsEndpoints,omitempty"`

	// LoadBalancer is the CloudWatch LoadBalancer dimension of the cell's ALB, such as
	// app/k8s-celleuwest1-0123456789/0123456789abcdef; with it the cell alarms on the load
	// balancer's 5xx rate and latency.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.matches('^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$')",message="spec.alerts.loadBalancer must be an ALB's CloudWatch dimension such as app/k8s-celleuwest1-0123456789/0123456789abcdef"
	LoadBalancer string `json:"loadBalancer,omitempty"`

	// Thresholds override the defaults of the alarms.
	// +kubebuilder:default={}
	Thresholds AlertThresholds `json:"thresholds,omitempty"`

	// LifecycleEvents also publishes the tenants' lifecycle events to the topic.
	// +optional
	LifecycleEvents bool `json:"lifecycleEvents,omitempty"`
}

// AlertThresholds are when the alarms fire.
//
// +kubebuilder:validation:XValidation:rule="!has(self.databaseCPULowPercent) || !has(self.databaseCPUHighPercent) || self.databaseCPULowPercent < self.databaseCPUHighPercent",message="spec.alerts.thresholds.databaseCPULowPercent must be lower than databaseCPUHighPercent"
type AlertThresholds struct {
	// DatabaseCPUHighPercent: a database's CPU at or above it for 15 minutes is heavy use.
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	DatabaseCPUHighPercent int32 `json:"databaseCPUHighPercent,omitempty"`
	// DatabaseCPULowPercent: a database's CPU at or below it every hour of a day is low use (a
	// candidate for a smaller class).
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=99
	DatabaseCPULowPercent int32 `json:"databaseCPULowPercent,omitempty"`
	// FreeStorageLowPercent: free storage under this share of the allocated storage.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=90
	FreeStorageLowPercent int32 `json:"freeStorageLowPercent,omitempty"`
	// ConnectionsHighPercent: connections at or above this share of the class's max_connections.
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	ConnectionsHighPercent int32 `json:"connectionsHighPercent,omitempty"`
	// CacheCPUHighPercent: the cache's engine CPU at or above it for 15 minutes.
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	CacheCPUHighPercent int32 `json:"cacheCPUHighPercent,omitempty"`
	// CacheMemoryHighPercent: the cache's memory use at or above it for 15 minutes.
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	CacheMemoryHighPercent int32 `json:"cacheMemoryHighPercent,omitempty"`
	// LoadBalancer5xxPercent: the share of requests the app answered 5xx, over 5 minutes.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	LoadBalancer5xxPercent int32 `json:"loadBalancer5xxPercent,omitempty"`
	// LoadBalancerP99Milliseconds: the 99th percentile of the app's response time, over 5 minutes.
	// +kubebuilder:default=2000
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=120000
	LoadBalancerP99Milliseconds int32 `json:"loadBalancerP99Milliseconds,omitempty"`
}

// CellIngress is the load balancer tenants' DNS records alias and the Ingress the cell makes.
type CellIngress struct {
	// ClassName is the IngressClass of the cell's Ingress, such as alb.
	// +kubebuilder:default=alb
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')",message="spec.ingress.className must be a lower-case Kubernetes name"
	ClassName string `json:"className,omitempty"`

	// LoadBalancerDNSName is the DNS name of the cell's load balancer; tenant records alias it.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\\\\.)+[a-zA-Z]{2,63}\\\\.?$')",message="spec.ingress.loadBalancerDNSName must be a DNS name such as k8s-cell-1234.eu-west-1.elb.amazonaws.com"
	LoadBalancerDNSName string `json:"loadBalancerDNSName"`

	// LoadBalancerHostedZoneID is the canonical hosted zone of the load balancer, needed for
	// Route53 alias records (for an ALB, the region's ELB zone).
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^Z[A-Z0-9]{1,31}$')",message="spec.ingress.loadBalancerHostedZoneID must be a Route53 hosted zone ID"
	LoadBalancerHostedZoneID string `json:"loadBalancerHostedZoneID"`

	// CertificateARN is the ACM certificate the load balancer terminates TLS with.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$')",message="spec.ingress.certificateARN must be an ACM certificate ARN"
	CertificateARN string `json:"certificateARN,omitempty"`

	// SourceCIDRs are where the load balancer's traffic to the app comes from (with the AWS Load
	// Balancer Controller in IP target mode, the ALB's subnets). When set, app pods accept
	// their port only from these ranges; when empty, from anywhere in the cluster network.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(c, isCIDR(c))",message="spec.ingress.sourceCIDRs must be CIDRs such as 10.0.0.0/16"
	// +listType=set
	SourceCIDRs []string `json:"sourceCIDRs,omitempty"`
}

// CellNetwork is the private network of the cell.
//
// +kubebuilder:validation:XValidation:rule="has(self.dbSubnetGroupName) != (has(self.dbSubnetIDs) && size(self.dbSubnetIDs) > 0)",message="spec.network: set exactly one of dbSubnetGroupName and dbSubnetIDs"
type CellNetwork struct {
	// DBSubnetGroupName is an existing RDS DB subnet group for tenant databases.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-zA-Z0-9][-a-zA-Z0-9_. ]*$')",message="spec.network.dbSubnetGroupName must be an RDS DB subnet group name"
	DBSubnetGroupName string `json:"dbSubnetGroupName,omitempty"`

	// DBSubnetIDs are private subnets, in at least two availability zones, for a DB subnet
	// group the operator makes. Multi-AZ databases need two zones.
	// +optional
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^subnet-[0-9a-f]{8,17}$'))",message="spec.network.dbSubnetIDs must be subnet IDs such as subnet-0123456789abcdef0"
	// +listType=set
	DBSubnetIDs []string `json:"dbSubnetIDs,omitempty"`

	// DBSecurityGroupIDs guard the databases: they take MySQL only from the app's nodes.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	// +kubebuilder:validation:items:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^sg-[0-9a-f]{8,17}$'))",message="spec.network.dbSecurityGroupIDs must be security group IDs such as sg-0123456789abcdef0"
	// +listType=set
	DBSecurityGroupIDs []string `json:"dbSecurityGroupIDs"`

	// CacheSubnetIDs are private subnets for the cache subnet group the operator makes.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^subnet-[0-9a-f]{8,17}$'))",message="spec.network.cacheSubnetIDs must be subnet IDs such as subnet-0123456789abcdef0"
	// +listType=set
	CacheSubnetIDs []string `json:"cacheSubnetIDs"`

	// AWSAPICIDRs are where the app, its recommendation runs and the publishing Jobs reach the
	// AWS APIs they call (SES, SQS, S3, STS for IRSA) over HTTPS: the addresses of the VPC's
	// interface endpoints, and the CIDRs of the S3 gateway endpoint's prefix list. Only those
	// pods get HTTPS out, and only to these ranges. Defaults to the private ranges a VPC's
	// interface endpoints live in (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); a cell that
	// reaches AWS through a NAT gateway instead names 0.0.0.0/0 here, knowingly.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(c, isCIDR(c))",message="spec.network.awsAPICIDRs must be CIDRs such as 10.0.0.0/16 (the VPC endpoints' addresses, or a prefix list's CIDRs)"
	// +listType=set
	AWSAPICIDRs []string `json:"awsAPICIDRs,omitempty"`

	// CacheSecurityGroupIDs guard the caches.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	// +kubebuilder:validation:items:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^sg-[0-9a-f]{8,17}$'))",message="spec.network.cacheSecurityGroupIDs must be security group IDs such as sg-0123456789abcdef0"
	// +listType=set
	CacheSecurityGroupIDs []string `json:"cacheSecurityGroupIDs"`
}

// DatabaseDefaults are what a new tenant database of the cell gets unless the Tenant overrides
// it. Changing them does not modify existing databases: each tenant keeps the shape it was
// created with (status.effectiveDatabase). To move existing databases to the current defaults,
// change Revision: the cell then rolls the defaults out, RolloutBatchSize tenants at a time,
// pausing on the first database that fails (status.databaseRollout).
type DatabaseDefaults struct {
	// Revision names the current defaults. Databases created while it is set carry it; changing
	// it rolls the current defaults out to every database of the cell that carries another one.
	// Storage only grows: a database larger than the default keeps its size.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')",message="spec.database.revision must be a lower-case name such as 2026-11 or r2"
	Revision string `json:"revision,omitempty"`

	// RolloutBatchSize is how many databases a rollout of the defaults modifies at once.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	RolloutBatchSize int32 `json:"rolloutBatchSize,omitempty"`

	// Engine of tenant databases. The app speaks MySQL.
	// +kubebuilder:default=mysql
	// +kubebuilder:validation:Enum=mysql
	Engine string `json:"engine,omitempty"`

	// EngineVersion of tenant databases, such as 8.0.
	// +kubebuilder:default="8.0"
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]+(\\\\.[0-9]+){0,2}$')",message="spec.database.engineVersion must be a version such as 8.0 or 8.0.39"
	EngineVersion string `json:"engineVersion,omitempty"`

	// InstanceClass of tenant databases, such as db.t4g.medium.
	// +kubebuilder:default="db.t4g.medium"
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^db\\\\.[a-z0-9-]+\\\\.[a-z0-9]+$')",message="spec.database.instanceClass must be an RDS instance class such as db.t4g.medium"
	InstanceClass string `json:"instanceClass,omitempty"`

	// StorageGiB is the allocated storage of a new tenant database.
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=20
	// +kubebuilder:validation:Maximum=65536
	StorageGiB int32 `json:"storageGiB,omitempty"`

	// MultiAZ keeps a synchronous standby in another availability zone.
	// +kubebuilder:default=true
	MultiAZ *bool `json:"multiAZ,omitempty"`

	// BackupRetentionDays is how long RDS keeps automated backups (point-in-time restore).
	// +kubebuilder:default=7
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=35
	BackupRetentionDays int32 `json:"backupRetentionDays,omitempty"`

	// WarmPool keeps databases ready before the customers are: unclaimed instances made from
	// these defaults, which a new tenant whose database has this shape claims in seconds instead
	// of waiting 10 to 20 minutes for RDS to make its own. Each costs what a tenant database
	// costs (status.cost shows the pool's part).
	// +optional
	WarmPool *WarmPool `json:"warmPool,omitempty"`
}

// WarmPool is how many unclaimed databases a cell keeps. They have the cell's database defaults
// (its current revision): a tenant whose effective database differs (its own spec.database, a
// restore) makes its own, and a change of the defaults replaces the unclaimed ones.
type WarmPool struct {
	// Size is how many unclaimed databases the cell keeps ready; 0 empties the pool. A pool
	// shrunk or removed deletes only unclaimed instances, which never held a tenant's data.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=20
	Size int32 `json:"size"`
}

// WarmPoolStatus is the pool as the cell last saw it.
type WarmPoolStatus struct {
	// Size is how many unclaimed databases the pool should hold.
	Size int32 `json:"size"`
	// Ready is how many unclaimed databases of the pool's shape RDS reports available.
	Ready int32 `json:"ready"`
	// Creating is how many RDS is still making.
	// +optional
	Creating int32 `json:"creating,omitempty"`
	// Shape is the database the pool holds, as a tenant's status describes it.
	// +optional
	Shape string `json:"shape,omitempty"`
}

// CacheDefaults shape the cell's shared cache and dedicated tenants' own.
type CacheDefaults struct {
	// Engine of the cache.
	// +kubebuilder:default=redis
	// +kubebuilder:validation:Enum=redis;valkey
	Engine string `json:"engine,omitempty"`

	// EngineVersion of the cache, such as 7.1.
	// +kubebuilder:default="7.1"
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]+(\\\\.[0-9]+){0,2}$')",message="spec.cache.engineVersion must be a version such as 7.1"
	EngineVersion string `json:"engineVersion,omitempty"`

	// NodeType of cache nodes, such as cache.t4g.small.
	// +kubebuilder:default="cache.t4g.small"
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^cache\\\\.[a-z0-9-]+\\\\.[a-z0-9]+$')",message="spec.cache.nodeType must be an ElastiCache node type such as cache.t4g.small"
	NodeType string `json:"nodeType,omitempty"`

	// Replicas per shard. One or more gives Multi-AZ with automatic failover.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	Replicas int32 `json:"replicas,omitempty"`
}

// CellApp is the multi-tenant app the cell runs.
//
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="spec.app.minReplicas must not exceed spec.app.maxReplicas"
type CellApp struct {
	// Image is the app's image repository, without a tag: the tag is Version.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.contains('@') && !self.matches(':[^/]*$')",message="spec.app.image must be a repository without tag or digest; the tag is spec.app.version"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9._/:]*[a-z0-9])?$')",message="spec.app.image must be a lower-case image repository such as ghcr.io/tenantops/app"
	Image string `json:"image"`

	// Version is the app version (image tag) tenants with upgradeStrategy Auto run. Changing it
	// rolls the cell out: every such tenant's migration runs first, then the app moves.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^v?[0-9]+\\\\.[0-9]+\\\\.[0-9]+(-[0-9A-Za-z.-]+)?$')",message="spec.app.version must be a semantic version such as 1.4.2"
	Version string `json:"version"`

	// Resources of each app container. The CPU request is what autoscaling percentages are of.
	// +kubebuilder:default={requests:{cpu:"250m",memory:"256Mi"},limits:{memory:"512Mi"}}
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// MinReplicas of the shared app.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MinReplicas int32 `json:"minReplicas,omitempty"`

	// MaxReplicas of the shared app.
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxReplicas int32 `json:"maxReplicas,omitempty"`
}

// AutoscalingPolicy is the design's rule: add app servers when average CPU passes
// scaleOutAtPercent, remove them only when it falls under scaleInAtPercent, hold in between.
//
// The operator writes an autoscaling/v2 HorizontalPodAutoscaler with target scaleOutAtPercent,
// scale-up tolerance 0 and scale-down tolerance 1 - scaleInAtPercent/scaleOutAtPercent
// (0.875 for 80/10). The HPA scales down only when usage/target < 1 - tolerance, that is when
// usage < scaleInAtPercent. Configurable tolerances are beta from Kubernetes 1.35 and GA in 1.37
// (feature gate HPAConfigurableTolerance); an older API server drops the field and uses its
// global 10 % tolerance, so the app then scales in whenever usage falls under 72 %.
//
// +kubebuilder:validation:XValidation:rule="!has(self.scaleInAtPercent) || !has(self.scaleOutAtPercent) || self.scaleInAtPercent < self.scaleOutAtPercent",message="spec.autoscaling.scaleInAtPercent must be lower than scaleOutAtPercent"
type AutoscalingPolicy struct {
	// ScaleOutAtPercent is the average CPU utilisation (of requests) above which replicas are added.
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	ScaleOutAtPercent int32 `json:"scaleOutAtPercent,omitempty"`

	// ScaleInAtPercent is the average CPU utilisation under which replicas are removed; 0 never
	// removes them. A pointer, so that 0 is not taken for unset.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=99
	ScaleInAtPercent *int32 `json:"scaleInAtPercent,omitempty"`

	// ScaleDownStabilizationSeconds is how long usage must stay low before replicas go; 0 lets
	// them go at once. A pointer, so that 0 is not taken for unset.
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	ScaleDownStabilizationSeconds *int32 `json:"scaleDownStabilizationSeconds,omitempty"`

	// ScaleUpStabilizationSeconds is how long usage must stay high before replicas come.
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	ScaleUpStabilizationSeconds int32 `json:"scaleUpStabilizationSeconds,omitempty"`
}

// SpotScheduling places recommendation runs on spot nodes, falling back to on-demand nodes when
// a run cannot be scheduled in time.
type SpotScheduling struct {
	// NodeSelector picks spot nodes, such as karpenter.sh/capacity-type: spot.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations let runs onto tainted spot nodes.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// OnDemandNodeSelector picks on-demand nodes for a run that fell back.
	// +optional
	OnDemandNodeSelector map[string]string `json:"onDemandNodeSelector,omitempty"`

	// OnDemandFallbackAfter is how long a run may wait unschedulable on spot before it moves
	// to on-demand capacity.
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('30s') && duration(self) <= duration('24h')",message="spec.spot.onDemandFallbackAfter must be a duration between 30s and 24h, such as 5m"
	OnDemandFallbackAfter *metav1.Duration `json:"onDemandFallbackAfter,omitempty"`
}

// CellCapacity limits a cell.
type CellCapacity struct {
	// MaxTenants is how many tenants the cell serves; further Tenants wait, Pending.
	// +kubebuilder:default=500
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	MaxTenants int32 `json:"maxTenants,omitempty"`

	// MaxDedicatedTenants is how many of them may be dedicated. Each dedicated tenant takes one
	// rule of the cell's load balancer (an ALB has 100 by default; the pooled tenants share one
	// wildcard rule whatever their number), so this keeps the cell under that quota. Raise it
	// only after raising the quota.
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=95
	MaxDedicatedTenants int32 `json:"maxDedicatedTenants,omitempty"`
}

// Notifications are where tenant lifecycle events go.
type Notifications struct {
	// Webhooks receive a signed CloudEvent (JSON) on each tenant lifecycle transition.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +listType=map
	// +listMapKey=name
	Webhooks []Webhook `json:"webhooks,omitempty"`

	// HMACSecretRef names the Secret key whose value signs webhook bodies (header
	// X-Tenantops-Signature: sha256=<hex HMAC-SHA256>).
	// +optional
	HMACSecretRef *SecretKeyRef `json:"hmacSecretRef,omitempty"`

	// SNSTopicARN also receives every event, for alarms and fan-out.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches('^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\\\.fifo)?$')",message="spec.notifications.snsTopicARN must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:tenants"
	SNSTopicARN string `json:"snsTopicARN,omitempty"`
}

// Webhook is one receiver of tenant lifecycle events.
type Webhook struct {
	// Name identifies the receiver, such as crm.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="spec.notifications.webhooks[].name must be a DNS label such as crm"
	Name string `json:"name"`

	// Purpose says what the receiver is.
	// +kubebuilder:validation:Enum=ControlPanel;CRM;Billing;Ticketing;Other
	// +kubebuilder:default=Other
	Purpose string `json:"purpose,omitempty"`

	// URL receives POSTs. HTTPS, except to localhost for local testing.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.matches('^http://(localhost|127\\\\.0\\\\.0\\\\.1)(:[0-9]+)?(/.*)?$'))",message="spec.notifications.webhooks[].url must be an https:// URL (http:// only to localhost)"
	URL string `json:"url"`
}

// SecretKeyRef points at one key of a Secret in a namespace.
type SecretKeyRef struct {
	// Namespace of the Secret.
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// Name of the Secret.
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key in the Secret's data.
	// +kubebuilder:default=key
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// EmailSettings are how tenants' mail goes out through SES.
type EmailSettings struct {
	// Sender is the SES-verified From address, such as no-reply@website.com.
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^@\\\\s]+@([a-z0-9]([-a-z0-9]*[a-z0-9])?\\\\.)+[a-z]{2,63}$')",message="spec.email.sender must be an e-mail address such as no-reply@website.com"
	Sender string `json:"sender"`

	// ConfigurationSet is the SES configuration set for delivery events.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_-]+$')",message="spec.email.configurationSet must be letters, digits, - and _"
	ConfigurationSet string `json:"configurationSet,omitempty"`
}

// RegionCellStatus is what the operator observed of the cell.
type RegionCellStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the conditions.
	// +optional
	Phase string `json:"phase,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, AppReady, CacheReady, RolloutComplete,
	// DatabaseDefaultsRolledOut, and WarmPoolReady while the cell has a warm pool.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// Tenants is how many Tenants are placed in the cell (those moving out included).
	// +optional
	Tenants int32 `json:"tenants,omitempty"`

	// DedicatedTenants is how many of them are dedicated.
	// +optional
	DedicatedTenants int32 `json:"dedicatedTenants,omitempty"`

	// Capacity is "<tenants>/<maxTenants>", for kubectl get.
	// +optional
	Capacity string `json:"capacity,omitempty"`

	// TenantsByPhase counts the cell's Tenants by status.phase.
	// +optional
	TenantsByPhase map[string]int32 `json:"tenantsByPhase,omitempty"`

	// AppVersion is the version the shared app runs now.
	// +optional
	AppVersion string `json:"appVersion,omitempty"`

	// AvailableReplicas of the shared app.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`

	// CacheEndpoint is the shared cache's primary endpoint, host:port.
	// +optional
	CacheEndpoint string `json:"cacheEndpoint,omitempty"`

	// Namespace the cell's shared objects live in.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// AlertsTopicARN is the ARN of the cell's SNS topic (spec.alerts), once SNS made it.
	// +optional
	AlertsTopicARN string `json:"alertsTopicARN,omitempty"`

	// AssetsURL is where the cell's static files are served (spec.assets), once its CloudFront
	// distribution is deployed; the tenants' pages load them from there.
	// +optional
	AssetsURL string `json:"assetsURL,omitempty"`

	// AssetsVersions are the app versions whose files are published there.
	// +optional
	// +listType=set
	AssetsVersions []string `json:"assetsVersions,omitempty"`

	// Cost is what the cell costs a month: its own parts, its share of its region's, and its
	// tenants' own parts.
	// +optional
	Cost *CellCost `json:"cost,omitempty"`

	// DatabaseRollout is the progress of the rollout of spec.database.revision to existing
	// tenant databases.
	// +optional
	DatabaseRollout *DatabaseRollout `json:"databaseRollout,omitempty"`

	// WarmPool is the pool of unclaimed databases (spec.database.warmPool).
	// +optional
	WarmPool *WarmPoolStatus `json:"warmPool,omitempty"`
}

// CellCost is a cell's monthly cost, whole and per tenant.
type CellCost struct {
	CostEstimate `json:",inline"`
	// PerTenantUSD is the whole divided by the cell's tenants (its own parts alone when it has
	// none).
	PerTenantUSD string `json:"perTenantUSD"`
}

// DatabaseRollout is how far the cell's database defaults have reached its tenants.
type DatabaseRollout struct {
	// Revision being rolled out.
	Revision string `json:"revision"`
	// Updated counts databases on the revision and ready.
	Updated int32 `json:"updated"`
	// Waiting counts databases not yet started.
	Waiting int32 `json:"waiting"`
	// InProgress names the tenants whose databases are being modified now (at most
	// spec.database.rolloutBatchSize).
	// +optional
	// +listType=set
	InProgress []string `json:"inProgress,omitempty"`
	// Failed names the tenants whose database failed on the revision; the rollout waits for them.
	// +optional
	// +listType=set
	Failed []string `json:"failed,omitempty"`
}

// RegionCell is one AWS region's copy of the SaaS architecture: load balancer, shared app,
// shared cache, private network, and the defaults its Tenants start from.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cell,categories=saas
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="Tenants",type=integer,JSONPath=`.status.tenants`
// +kubebuilder:printcolumn:name="Capacity",type=string,JSONPath=`.status.capacity`
// +kubebuilder:printcolumn:name="USD/mo",type=string,JSONPath=`.status.cost.monthlyUSD`
// +kubebuilder:printcolumn:name="USD/tenant",type=string,JSONPath=`.status.cost.perTenantUSD`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 58 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS label of at most 58 characters: the cell's namespace is cell-<name>"
type RegionCell struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RegionCellSpec   `json:"spec"`
	Status RegionCellStatus `json:"status,omitempty"`
}

// RegionCellList is a list of RegionCells.
//
// +kubebuilder:object:root=true
type RegionCellList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RegionCell `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RegionCell{}, &RegionCellList{})
}
