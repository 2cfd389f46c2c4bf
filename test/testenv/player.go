package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudfront"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
)

// System is one outside system a Player stands in for.
type System string

const (
	// RDS reports every DBInstance available at a made-up address.
	RDS System = "RDS"
	// ElastiCache reports every ReplicationGroup available at a made-up address.
	ElastiCache System = "ElastiCache"
	// JobController reports every migration Job succeeded.
	JobController System = "Job controller"
	// Kubelet reports the current template of every operator Deployment available.
	Kubelet System = "kubelet"
	// Route53 reports every RecordSet in sync.
	Route53 System = "Route53"
	// SNS reports every Topic made (with an ARN) and every Subscription synced.
	SNS System = "SNS"
	// CloudWatch reports every MetricAlarm synced.
	CloudWatch System = "CloudWatch"
	// S3 reports every Bucket made.
	S3 System = "S3"
	// CloudFront reports every OriginAccessControl made (with an ID) and every Distribution
	// deployed at a made-up domain.
	CloudFront System = "CloudFront"
)

// AllSystems are every system a Player can stand in for.
var AllSystems = []System{RDS, ElastiCache, JobController, Kubelet, Route53, SNS, CloudWatch, S3, CloudFront}

// PlayerOptions choose what a Player plays and how.
type PlayerOptions struct {
	// Systems to stand in for; all of them when empty.
	Systems []System
	// Workers per system (8 when zero): outside systems work on many objects at once.
	Workers int
	// Played, when set, is told of each write.
	Played func(what string)
	// InNamespace, when set, limits the Player to the objects of the namespaces it accepts: a
	// test sharing its API server with others plays only its own tenants.
	InNamespace func(namespace string) bool
	// RDSCreateTime is how long RDS takes to make a new instance (none when zero); adopting one
	// that exists takes no time.
	RDSCreateTime time.Duration
	// RDSCreated, when set, is told of each instance the played RDS makes (a DBInstance it
	// had not seen), before it is reported: a test keeping an AWS-protocol server (moto) in
	// step makes the instance there too, restored from the DBInstance's snapshot when it names
	// one. An error is retried, as ACK retries a failed create.
	RDSCreated func(ctx context.Context, db *rds.DBInstance) error
	// Region is the AWS region the played ACK controllers run in (us-east-1 when empty): the
	// region of the ARNs it reports, unless a resource names its own (services.k8s.aws/region).
	Region string
}

// Player stands in, event-driven, for the systems that cannot run beside envtest: it watches
// what the operator makes and, as each system would, writes the status that system would write,
// through the status subresource, and nothing else. An ACK resource whose spec changes after it
// was reported on (a DNS record pointed elsewhere, a database's deletion settings) is reported on
// again, with a new timestamp, as ACK does after it applied the change.
type Player struct {
	c client.Client
	// rds is the account's RDS instances, as AWS would hold them.
	rds *Account
	// rdsCreated is PlayerOptions.RDSCreated.
	rdsCreated func(ctx context.Context, db *rds.DBInstance) error
	// region is PlayerOptions.Region.
	region string
	played atomic.Int64
	mu     sync.Mutex
	// generation of each ACK resource when it was last reported synced.
	reported map[string]int64
}

// RDS is the account's RDS instances as the Player made them.
func (p *Player) RDS() *Account { return p.rds }

// Played counts the Player's writes so far.
func (p *Player) Played() int64 { return p.played.Load() }

type playedSystem struct {
	System
	obj   client.Object
	needs func(p *Player, o client.Object) bool
	play  func(ctx context.Context, c client.Client, o client.Object) (string, error)
}

func (p *Player) ackNeeds(key string, conditions []*ackv1alpha1.Condition, generation int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !ack.ReadState(conditions).Synced || p.reported[key] < generation
}

func (p *Player) ackReported(key string, generation int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reported[key] = max(p.reported[key], generation)
}

func playedSystems(p *Player) []playedSystem {
	return []playedSystem{
		{RDS, &rds.DBInstance{}, func(p *Player, o client.Object) bool {
			db := o.(*rds.DBInstance)
			return p.ackNeeds(ackKey(RDS, o), db.Status.Conditions, db.Generation)
		}, p.playDBInstance},
		{ElastiCache, &ecv1.ReplicationGroup{}, func(p *Player, o client.Object) bool {
			rg := o.(*ecv1.ReplicationGroup)
			return p.ackNeeds(ackKey(ElastiCache, o), rg.Status.Conditions, rg.Generation)
		}, func(ctx context.Context, c client.Client, o client.Object) (string, error) {
			return "ElastiCache: " + o.GetNamespace() + "/" + o.GetName() + " available",
				PlayCacheAvailable(ctx, c, o.GetNamespace(), o.GetName(), o.GetNamespace()+".c0ffee.cache.amazonaws.com")
		}},
		{JobController, &batchv1.Job{}, func(_ *Player, o client.Object) bool {
			j := o.(*batchv1.Job)
			c := j.Labels["app.kubernetes.io/component"]
			return (c == "migration" || c == "assets") && len(j.Status.Conditions) == 0
		}, func(ctx context.Context, c client.Client, o client.Object) (string, error) {
			return "Job controller: " + o.GetNamespace() + "/" + o.GetName() + " succeeded", PlayJobFinished(ctx, c, o.GetNamespace(), o.GetName(), true)
		}},
		{Kubelet, &appsv1.Deployment{}, func(_ *Player, o client.Object) bool {
			d := o.(*appsv1.Deployment)
			return d.Labels["app.kubernetes.io/managed-by"] == "tenant-operator" && d.Status.ObservedGeneration < d.Generation
		}, func(ctx context.Context, c client.Client, o client.Object) (string, error) {
			return "kubelet: " + o.GetNamespace() + "/" + o.GetName() + " available", PlayDeploymentAvailable(ctx, c, o.GetNamespace(), o.GetName())
		}},
		{Route53, &route53.RecordSet{}, func(p *Player, o client.Object) bool {
			rs := o.(*route53.RecordSet)
			return p.ackNeeds(ackKey(Route53, o), rs.Status.Conditions, rs.Generation)
		}, func(ctx context.Context, c client.Client, o client.Object) (string, error) {
			return "Route53: " + o.GetNamespace() + "/" + o.GetName() + " in sync", PlayRecordInSync(ctx, c, o.GetNamespace(), o.GetName())
		}},
		ackSystem(SNS, &sns.Topic{}, func(o client.Object) []*ackv1alpha1.Condition { return o.(*sns.Topic).Status.Conditions },
			func(ctx context.Context, c client.Client, o client.Object) (string, error) {
				t := o.(*sns.Topic)
				return "SNS: topic " + o.GetNamespace() + "/" + o.GetName() + " made", PlayStatus(ctx, c, t, o.GetNamespace(), o.GetName(), func() {
					t.Status.ACKResourceMetadata = ACKMetadata("arn:aws:sns:eu-west-1:123456789012:" + deref(t.Spec.Name))
					t.Status.Conditions = ACKSynced()
				})
			}),
		ackSystem(SNS, &sns.Subscription{}, func(o client.Object) []*ackv1alpha1.Condition { return o.(*sns.Subscription).Status.Conditions },
			func(ctx context.Context, c client.Client, o client.Object) (string, error) {
				sub := o.(*sns.Subscription)
				return "SNS: subscription " + o.GetNamespace() + "/" + o.GetName() + " synced", PlayStatus(ctx, c, sub, o.GetNamespace(), o.GetName(), func() {
					sub.Status.Conditions = ACKSynced()
				})
			}),
		ackSystem(CloudWatch, &cloudwatch.MetricAlarm{}, func(o client.Object) []*ackv1alpha1.Condition { return o.(*cloudwatch.MetricAlarm).Status.Conditions },
			func(ctx context.Context, c client.Client, o client.Object) (string, error) {
				a := o.(*cloudwatch.MetricAlarm)
				return "CloudWatch: alarm " + o.GetNamespace() + "/" + o.GetName() + " synced", PlayStatus(ctx, c, a, o.GetNamespace(), o.GetName(), func() {
					a.Status.Conditions = ACKSynced()
				})
			}),
		ackSystem(S3, &s3.Bucket{}, func(o client.Object) []*ackv1alpha1.Condition { return o.(*s3.Bucket).Status.Conditions },
			func(ctx context.Context, c client.Client, o client.Object) (string, error) {
				bkt := o.(*s3.Bucket)
				return "S3: bucket " + deref(bkt.Spec.Name) + " synced", PlayStatus(ctx, c, bkt, o.GetNamespace(), o.GetName(), func() {
					bkt.Status.ACKResourceMetadata = ACKMetadata("arn:aws:s3:::" + deref(bkt.Spec.Name))
					bkt.Status.Conditions = ACKSynced()
				})
			}),
		ackSystem(CloudFront, &cloudfront.OriginAccessControl{}, func(o client.Object) []*ackv1alpha1.Condition {
			return o.(*cloudfront.OriginAccessControl).Status.Conditions
		}, func(ctx context.Context, c client.Client, o client.Object) (string, error) {
			oac := o.(*cloudfront.OriginAccessControl)
			return "CloudFront: origin access control " + o.GetNamespace() + "/" + o.GetName() + " made", PlayStatus(ctx, c, oac, o.GetNamespace(), o.GetName(), func() {
				oac.Status.ID = ptr("E" + strings.ToUpper(shortHash(o.GetNamespace())))
				oac.Status.Conditions = ACKSynced()
			})
		}),
		ackSystem(CloudFront, &cloudfront.Distribution{}, func(o client.Object) []*ackv1alpha1.Condition { return o.(*cloudfront.Distribution).Status.Conditions },
			func(ctx context.Context, c client.Client, o client.Object) (string, error) {
				d := o.(*cloudfront.Distribution)
				id := "E" + strings.ToUpper(shortHash(o.GetNamespace()+"/distribution"))
				domain := "d" + shortHash(o.GetNamespace()) + ".cloudfront.net"
				return "CloudFront: distribution " + o.GetNamespace() + "/" + o.GetName() + " deployed at " + domain, PlayStatus(ctx, c, d, o.GetNamespace(), o.GetName(), func() {
					d.Status.ACKResourceMetadata = ACKMetadata("arn:aws:cloudfront::123456789012:distribution/" + id)
					d.Status.ID, d.Status.DomainName, d.Status.Status = ptr(id), ptr(domain), ptr(cloudfront.StatusDeployed)
					d.Status.Conditions = ACKSynced()
				})
			}),
	}
}

// ackSystem is an ACK kind played when not synced, or when its spec changed since.
func ackSystem(s System, obj client.Object, conditions func(client.Object) []*ackv1alpha1.Condition,
	play func(ctx context.Context, c client.Client, o client.Object) (string, error)) playedSystem {
	return playedSystem{s, obj, func(p *Player, o client.Object) bool {
		return p.ackNeeds(ackKey(s, o), conditions(o), o.GetGeneration())
	}, play}
}

// ACKMetadata is what ACK records of the AWS resource it made.
func ACKMetadata(arn string) *ackv1alpha1.ResourceMetadata {
	a, owner, region := ackv1alpha1.AWSResourceName(arn), ackv1alpha1.AWSAccountID("123456789012"), ackv1alpha1.AWSRegion("eu-west-1")
	return &ackv1alpha1.ResourceMetadata{ARN: &a, OwnerAccountID: &owner, Region: &region}
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

func ackKey(s System, o client.Object) string {
	return fmt.Sprintf("%s/%T/%s/%s", s, o, o.GetNamespace(), o.GetName())
}

// StartPlayer starts a Player as cfg's identity; it plays until ctx ends. It returns once it has
// seen what exists.
func StartPlayer(ctx context.Context, cfg *rest.Config, opts PlayerOptions) (*Player, error) {
	scheme := newPlayScheme()
	informers, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	// Reads come from the Player's own watches, as an outside system's would: only its writes
	// reach the API server.
	c, err := client.New(cfg, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: informers}})
	if err != nil {
		return nil, err
	}
	p := &Player{c: c, reported: map[string]int64{}, rds: newAccount(opts.RDSCreateTime), rdsCreated: opts.RDSCreated, region: opts.Region}
	if p.region == "" {
		p.region = "us-east-1"
	}
	want := map[System]bool{}
	for _, s := range opts.Systems {
		want[s] = true
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 8
	}
	for _, s := range playedSystems(p) {
		if len(want) > 0 && !want[s.System] {
			continue
		}
		if err := p.run(ctx, informers, s, workers, opts); err != nil {
			return nil, fmt.Errorf("%s: %w", s.System, err)
		}
	}
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("player: caches did not sync")
	}
	return p, nil
}

// run plays one system: its objects' events feed a queue that workers drain, each looking at
// the object as the cache holds it now.
func (p *Player) run(ctx context.Context, informers cache.Cache, s playedSystem, workers int, opts PlayerOptions) error {
	inf, err := informers.GetInformer(ctx, s.obj)
	if err != nil {
		return err
	}
	// A write refused (a conflict with the operator's own write, the object not in the cache yet)
	// is retried after at most a second. The default limiter doubles the wait up to 1,000 s: under
	// load, a dozen conflicts in a row would leave an object unplayed for minutes once nothing else
	// wakes it, and a test's deadline would wait on the stand-in instead of the operator.
	q := workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](5*time.Millisecond, time.Second))
	enqueue := func(obj any) {
		if o, ok := obj.(client.Object); ok && (opts.InNamespace == nil || opts.InNamespace(o.GetNamespace())) && s.needs(p, o) {
			q.Add(client.ObjectKeyFromObject(o))
		}
	}
	handlers := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, o any) { enqueue(o) },
	}
	if s.System == RDS {
		handlers.DeleteFunc = func(obj any) {
			if gone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = gone.Obj
			}
			if db, ok := obj.(*rds.DBInstance); ok && (opts.InNamespace == nil || opts.InNamespace(db.Namespace)) {
				p.rds.released(db)
			}
		}
	}
	if _, err := inf.AddEventHandler(handlers); err != nil {
		return err
	}
	go func() { <-ctx.Done(); q.ShutDown() }()
	for range workers {
		go func() {
			for {
				key, quit := q.Get()
				if quit {
					return
				}
				p.playOne(ctx, informers, s, key, q, opts.Played)
				q.Done(key)
			}
		}()
	}
	return nil
}

func (p *Player) playOne(ctx context.Context, informers cache.Cache, s playedSystem, key types.NamespacedName,
	q workqueue.TypedRateLimitingInterface[types.NamespacedName], played func(string)) {
	o, _ := s.obj.DeepCopyObject().(client.Object)
	if err := informers.Get(ctx, key, o); err != nil || !s.needs(p, o) {
		q.Forget(key)
		return
	}
	what, err := s.play(ctx, p.c, o)
	var later notYet
	if errors.As(err, &later) {
		q.AddAfter(key, later.after) // RDS is still making it
		return
	}
	if err != nil {
		q.AddRateLimited(key) // a conflict with the operator's own write, or not there yet
		return
	}
	q.Forget(key)
	if s.System != JobController && s.System != Kubelet {
		// An ACK kind: remember the spec it reported on.
		p.ackReported(ackKey(s.System, o), o.GetGeneration())
	}
	p.played.Add(1)
	if played != nil {
		played(what)
	}
}

// newPlayScheme knows the kinds the Player reports on (the operator's scheme is out of reach
// here: the controllers' tests import this package).
func newPlayScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(rds.AddToScheme(s))
	utilruntime.Must(route53.AddToScheme(s))
	utilruntime.Must(ecv1.AddToScheme(s))
	utilruntime.Must(sns.AddToScheme(s))
	utilruntime.Must(cloudwatch.AddToScheme(s))
	utilruntime.Must(s3.AddToScheme(s))
	utilruntime.Must(cloudfront.AddToScheme(s))
	return s
}
