// Command tenant-operator runs the Tenant and RegionCell controllers.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/kinds"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/recovery/awscw"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsfence"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsrds"
	"github.com/tenantops/tenant-operator/controllers/tenant"
)

func main() {
	var (
		metricsAddr, probeAddr string
		leaderElect, secure    bool
		leaderElectionNS       string
		maxConcurrent          int
		snsEndpoint            string
		apiQPS                 float64
		apiBurst               int
		moveWarmup, moveDrain  time.Duration
		priceTable             string
		optionalKindsCheck     time.Duration
		serviceAccount         string
		dataRole               string
		jurisdictions          string
		rdsEndpoint            string
		route53Endpoint        string
		cloudwatchEndpoint     string
		copies                 bool
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8443", "Address of the metrics endpoint (HTTPS with authn/authz unless --metrics-secure=false); 0 disables it.")
	flag.BoolVar(&secure, "metrics-secure", true, "Serve metrics over HTTPS, authenticated and authorised by the API server.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz.")
	// Off by default so that a first run with a kubeconfig works; the chart and config/manager
	// turn it on, where the pod's namespace holds the lease.
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles (the chart and config/manager turn it on).")
	flag.StringVar(&leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader-election lease; in a cluster, the pod's own namespace by default.")
	flag.IntVar(&maxConcurrent, "max-concurrent-reconciles", controllers.DefaultMaxConcurrentReconciles, "Tenants reconciled in parallel.")
	flag.Float64Var(&apiQPS, "kube-api-qps", controllers.DefaultQPS,
		"Requests per second the whole operator sends the API server, sustained: one budget for every kind (docs/operations.md, API server budget); 0 or less: no client-side limit.")
	flag.IntVar(&apiBurst, "kube-api-burst", controllers.DefaultBurst, "Requests the operator may send the API server in a burst.")
	flag.DurationVar(&moveWarmup, "move-warmup", tenant.DefaultMoveWarmup,
		"During a move between cells, how long the new cell serves a tenant before DNS points at it.")
	flag.DurationVar(&moveDrain, "move-drain", tenant.DefaultMoveDrain,
		"During a move between cells, how long the old cell keeps serving after Route53 has the switched record in sync.")
	flag.StringVar(&priceTable, "price-table", "", "File of the cost estimates' price table (the chart mounts its ConfigMap); the built-in table when empty.")
	flag.DurationVar(&optionalKindsCheck, "optional-kinds-check-interval", kinds.DefaultCheck,
		"How often to ask whether the ACK kinds of spec.alerts and spec.assets were installed since the operator started; when they are, it exits so that its Deployment starts it again with their watches. 0 never asks.")
	flag.StringVar(&snsEndpoint, "sns-endpoint-url", "", "SNS endpoint for lifecycle events, to use an SNS-compatible server instead of AWS.")
	flag.StringVar(&serviceAccount, "service-account", "",
		"The operator's own ServiceAccount, as namespace/name: in each namespace it makes it binds it to --namespace-data-role, the only place it may write Secrets and ConfigMaps (the chart sets it). Empty: it binds nothing, and its user needs those rights itself.")
	flag.StringVar(&dataRole, "namespace-data-role", builders.DefaultDataRole, "The ClusterRole that writes Secrets and ConfigMaps, bound in the operator's namespaces only.")
	flag.StringVar(&jurisdictions, "jurisdictions", "",
		"The regions tenants' data may be copied between for disaster recovery, as jurisdictions: \"eu=eu-west-1,eu-central-1;us=us-east-1,us-west-2\" (the chart's disasterRecovery.jurisdictions). A cell's partner region outside its own region's jurisdiction is refused; empty refuses every partner.")
	flag.StringVar(&rdsEndpoint, "rds-endpoint-url", "", "RDS endpoint for disaster-recovery copies, to use an RDS-compatible server instead of AWS.")
	flag.StringVar(&route53Endpoint, "route53-endpoint-url", "", "Route53 endpoint for the fencing records of failovers, to use a Route53-compatible server instead of AWS.")
	flag.StringVar(&cloudwatchEndpoint, "cloudwatch-endpoint-url", "", "CloudWatch endpoint for the standbys' replica lag, to use a CloudWatch-compatible server instead of AWS.")
	flag.BoolVar(&copies, "disaster-recovery", true, "Make the copies cells ask for (spec.disasterRecovery) with the RDS API; false makes none, and their tenants say so.")
	opts := zap.Options{Development: false, TimeEncoder: zapcore.ISO8601TimeEncoder}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	metricsOpts := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secure,
		// HTTP/2 is off: it is open to the rapid-reset and stream-cancellation attacks.
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if secure {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	cfg := ctrl.GetConfigOrDie()
	controllers.ShareRateLimit(cfg, float32(apiQPS), apiBurst)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  controllers.NewScheme(),
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "tenant-operator.saas.tenantops.io",
		LeaderElectionNamespace: leaderElectionNS,
		// Stepping down on SIGTERM hands over at once instead of after the lease expires.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(),
	})
	if err != nil && leaderElect && leaderElectionNS == "" {
		log.Error(err, "unable to create the manager; out of a cluster, leader election needs --leader-election-namespace")
		os.Exit(1)
	}
	if err != nil {
		log.Error(err, "unable to create the manager")
		os.Exit(1)
	}
	// AWS credentials come from the default chain (IRSA / EKS Pod Identity); they are needed only
	// when a cell sets spec.notifications.snsTopicARN.
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error(err, "unable to load the AWS configuration")
		os.Exit(1)
	}
	identity := builders.OperatorIdentity{DataRole: dataRole}
	if serviceAccount != "" {
		ns, name, ok := strings.Cut(serviceAccount, "/")
		if !ok || ns == "" || name == "" {
			log.Error(nil, "--service-account must be namespace/name", "got", serviceAccount)
			os.Exit(2)
		}
		identity.Namespace, identity.ServiceAccount = ns, name
	}
	jur, err := recovery.ParseJurisdictions(jurisdictions)
	if err != nil {
		log.Error(err, "--jurisdictions")
		os.Exit(2)
	}
	ctrlOpts := controllers.Options{
		Jurisdictions:           jur,
		Identity:                identity,
		MaxConcurrentReconciles: maxConcurrent,
		SNS:                     &notify.AWSSNS{Config: awsCfg, EndpointURL: snsEndpoint},
		MoveWarmup:              moveWarmup,
		MoveDrain:               moveDrain,
		PriceTable:              priceTable,
		OptionalKindsCheck:      optionalKindsCheck,
	}
	if copies {
		// Credentials from the same chain; the role needs rds:CreateDBSnapshot, CopyDBSnapshot,
		// DescribeDBSnapshots, DeleteDBSnapshot, AddTagsToResource and kms:CreateGrant on the
		// partner's key (docs/operations.md, "Disaster recovery").
		// Standbys: rds:DescribeDBInstances and PromoteReadReplica in the partner regions.
		rdsClient := &awsrds.Client{Config: awsCfg, EndpointURL: rdsEndpoint}
		ctrlOpts.Copier, ctrlOpts.Standbys = rdsClient, rdsClient
		// cloudwatch:GetMetricData, for the standbys' lag.
		ctrlOpts.Lag = &awscw.Client{Config: awsCfg, EndpointURL: cloudwatchEndpoint}
		// route53:ListResourceRecordSets and ChangeResourceRecordSets on the cells' zones.
		ctrlOpts.Fences = &awsfence.Client{Config: awsCfg, EndpointURL: route53Endpoint}
	}
	if err := controllers.SetupAll(mgr, ctrlOpts); err != nil {
		log.Error(err, "unable to set up the controllers")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the ready check")
		os.Exit(1)
	}
	log.Info("starting tenant-operator", "maxConcurrentReconciles", maxConcurrent, "leaderElection", leaderElect)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		if installed := (*kinds.Installed)(nil); errors.As(err, &installed) {
			// Not a failure: a restart is how the new kinds get watched.
			log.Info("stopping to start again", "why", installed.Error())
			os.Exit(0)
		}
		log.Error(err, "the manager stopped with an error")
		os.Exit(1)
	}
}
