// Command app is the multi-tenant app the operator deploys: `app serve` answers tenants'
// customers, `app migrate --tenant X` brings a tenant's schema to this version, and
// `app recommend --tenant X` computes a tenant's recommendations (the nightly CronJob), and
// `app publish-assets --bucket B` puts the pages' static files on S3 for the cell's CDN, and
// `app console` serves the signup console (docs/console.md).
//
// `go run ./app serve` with no flags runs the embedded default: SQLite files and an in-memory
// cache, with two demo tenants, acme and globex, at acme.localhost and globex.localhost:
//
//	go run ./app serve &
//	curl -H 'Host: acme.localhost' localhost:8080/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenantops/tenant-operator/app/internal/assets"
	"github.com/tenantops/tenant-operator/app/internal/cache"
	"github.com/tenantops/tenant-operator/app/internal/mail"
	"github.com/tenantops/tenant-operator/app/internal/queue"
	"github.com/tenantops/tenant-operator/app/internal/service"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
	"github.com/tenantops/tenant-operator/app/internal/web"
)

// Exit codes, for the CronJob and Job that run the batch commands.
const (
	exitOK       = 0
	exitFailed   = 1 // the work failed; a retry may succeed
	exitUsage    = 2 // bad flags or configuration; a retry will not help
	exitNoTenant = 3
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: app serve|migrate|recommend|publish-assets|console [flags]  (app <command> -h for flags)")
		os.Exit(exitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var code int
	switch os.Args[1] {
	case "serve":
		code = serve(ctx, log, os.Args[2:])
	case "migrate", "recommend":
		code = batch(ctx, log, os.Args[1], os.Args[2:])
	case "publish-assets":
		code = publishAssets(ctx, log, os.Args[2:])
	case "console":
		code = runConsole(ctx, log, os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q: app serve|migrate|recommend|publish-assets|console\n", os.Args[1])
		code = exitUsage
	}
	os.Exit(code)
}

// backends opens a cache backend per address: Redis (TLS when asked, as ElastiCache with
// encryption in transit needs), or memory when the tenant names none.
func backends(redisTLS bool) *cache.Shared {
	return cache.NewShared(func(addr string) cache.Backend {
		if addr == "" || addr == ":0" {
			return cache.NewMemory()
		}
		return cache.NewRedis(addr, redisTLS)
	})
}

func serve(ctx context.Context, log *slog.Logger, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", ":8080", "address to serve tenants' customers on (tenant routes only)")
	opsListen := fs.String("ops-listen", ":9090", "address of /healthz, /readyz and /metrics, for the kubelet and Prometheus; never routed to customers")
	recoFresh := fs.Duration("reco-fresh-for", service.RecoFreshFor, "how stale a replica's in-process copy of the recommendations may be")
	configDir := fs.String("config-dir", "", "directory of tenant configurations, one subdirectory per tenant")
	namespace := fs.String("tenant-secrets-namespace", "", "watch tenant configuration Secrets of this namespace (in a cluster)")
	kubeconfig := fs.String("kubeconfig", "", "with --tenant-secrets-namespace outside a cluster: the kubeconfig to watch with")
	selector := fs.String("tenant-secrets-selector", "saas.tenantops.io/tenant-config=true", "label selector of the tenant configuration Secrets")
	dataDir := fs.String("data-dir", filepath.Join(os.TempDir(), "tenantops-app"), "where the embedded default keeps its SQLite files")
	redisTLS := fs.Bool("redis-tls", false, "connect to Redis with TLS (ElastiCache with encryption in transit)")
	sqsURL := fs.String("sqs-queue-url", "", "SQS queue for asynchronous work; empty: an in-process queue")
	useSES := fs.Bool("ses", false, "send mail through SES; otherwise mail is written to the log")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}

	service.RecoFreshFor = *recoFresh
	reg := tenant.NewRegistry(service.Opener(backends(*redisTLS)))
	defer reg.Close()
	q, closeQueue, err := asyncWork(ctx, log, *sqsURL, *useSES, reg)
	if err != nil {
		log.Error("setting up queue and mail", "error", err)
		return exitUsage
	}
	defer closeQueue()
	reg.OnAdd = func(c tenant.Config) {
		if err := q.Send(ctx, welcomeJob(c.ID)); err != nil {
			log.Warn("queueing the welcome mail", "tenant", c.ID, "error", err)
		}
	}

	switch {
	case *namespace != "":
		cfg, err := restConfig(*kubeconfig)
		if err != nil {
			log.Error("watching tenant Secrets needs the in-cluster configuration or --kubeconfig", "error", err)
			return exitUsage
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			log.Error("kubernetes client", "error", err)
			return exitUsage
		}
		go func() {
			if err := tenant.WatchSecrets(ctx, cs, *namespace, *selector, reg, log); err != nil {
				log.Error("watching tenant Secrets", "error", err)
			}
		}()
	case *configDir != "":
		configs, err := tenant.LoadDir(*configDir)
		if err != nil {
			log.Error("some tenant configurations were not loaded", "error", err)
		}
		reg.Replace(configs)
		reg.MarkLoaded()
	default:
		configs, err := demoTenants(ctx, *dataDir)
		if err != nil {
			log.Error("the embedded default", "error", err)
			return exitFailed
		}
		reg.Replace(configs)
		reg.MarkLoaded()
		log.Info("embedded default: SQLite in "+*dataDir+" and an in-memory cache", "try", "curl -H 'Host: acme.localhost' "+tryURL(*listen))
	}
	handler := web.New(reg, log, q)
	srv := &http.Server{Addr: *listen, Handler: handler, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	ops := &http.Server{Addr: *opsListen, Handler: handler.Ops(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.ListenAndServe() }()
	go func() { errc <- ops.ListenAndServe() }()
	defer ops.Close()
	log.Info("serving", "address", *listen, "ops", *opsListen, "tenants", reg.IDs())
	select {
	case err := <-errc:
		log.Error("serving", "error", err)
		return exitFailed
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, finish what is in flight.
	shutdown, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Error("shutdown", "error", err)
		return exitFailed
	}
	log.Info("stopped")
	return exitOK
}

// asyncWork sets up the queue the app sends work to, and its consumer: SQS when a queue URL is
// given (every replica consumes it), else an in-process queue. Mail goes through SES with --ses,
// else to the log.
func asyncWork(ctx context.Context, log *slog.Logger, sqsURL string, useSES bool, reg *web.Registry) (queue.Queue, func(), error) {
	mailer, err := newMailer(ctx, log, useSES)
	if err != nil {
		return nil, nil, err
	}
	handle := worker(log, mailer, reg)
	if sqsURL == "" {
		q := queue.NewInProcess(ctx, 10000, handle)
		return q, q.Close, nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	q := &queue.SQS{Client: sqs.NewFromConfig(cfg), QueueURL: sqsURL}
	consumerCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for consumerCtx.Err() == nil {
			if _, err := q.Receive(consumerCtx, handle); err != nil && consumerCtx.Err() == nil {
				log.Warn("receiving from SQS", "error", err)
				time.Sleep(5 * time.Second)
			}
		}
	}()
	return q, func() { stop(); <-done }, nil
}

func newMailer(ctx context.Context, log *slog.Logger, useSES bool) (mail.Mailer, error) {
	if !useSES {
		return mail.Log{Logger: log}, nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	return mail.SES{Client: sesv2.NewFromConfig(cfg)}, nil
}

func batch(ctx context.Context, log *slog.Logger, command string, args []string) int {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	id := fs.String("tenant", "", "the tenant to work on")
	configDir := fs.String("config-dir", "/etc/tenants", "directory of tenant configurations, one subdirectory per tenant")
	redisTLS := fs.Bool("redis-tls", false, "connect to Redis with TLS")
	top := fs.Int("top", 10, "recommend: items per category")
	weight := fs.Float64("prior-weight", 0, "recommend: Bayesian confidence weight C; 0 takes the mean ratings per item")
	useSES := fs.Bool("ses", false, "recommend: send the daily digest through SES; otherwise it is written to the log")
	if err := fs.Parse(args); err != nil || *id == "" {
		fmt.Fprintln(os.Stderr, command+" needs --tenant")
		return exitUsage
	}
	log = log.With("tenant", *id, "command", command)
	cfg, err := tenant.LoadOne(filepath.Join(*configDir, *id))
	if errors.Is(err, os.ErrNotExist) {
		log.Error("no configuration for the tenant", "dir", *configDir)
		return exitNoTenant
	}
	if err != nil {
		log.Error("reading the tenant configuration", "error", err)
		return exitUsage
	}
	t, err := service.Opener(backends(*redisTLS))(cfg)
	if err != nil {
		log.Error("opening the tenant", "error", err)
		return exitFailed
	}
	defer t.Close()
	switch command {
	case "migrate":
		v, err := t.Migrate(ctx)
		if err != nil {
			log.Error("migration failed", "schemaVersion", v, "error", err)
			return exitFailed
		}
		log.Info("migrated", "schemaVersion", v)
	case "recommend":
		if *top < 1 || *top > 1000 {
			log.Error("--top must be from 1 to 1000")
			return exitUsage
		}
		res, err := t.Recommend(ctx, *top, *weight, time.Now())
		if err != nil {
			log.Error("recommendations failed", "error", err)
			return exitFailed
		}
		log.Info("recommendations computed", "ratings", res.Ratings, "recommended", res.Items, "prior", res.Prior,
			"weight", res.Weight, "generation", res.Generation, "seconds", res.Duration.Seconds(),
			"ratingsPerSecond", float64(res.Ratings)/max(res.Duration.Seconds(), 1e-9))
		mailer, err := newMailer(ctx, log, *useSES)
		if err != nil {
			log.Error("mail", "error", err)
			return exitUsage
		}
		// The digest is a courtesy: failing to send it does not fail the run.
		if _, err := t.SendDigest(ctx, mailer, time.Now().UTC()); err != nil {
			log.Warn("daily digest not sent", "error", err)
		}
	}
	return exitOK
}

func tryURL(listen string) string {
	if len(listen) > 0 && listen[0] == ':' {
		return "localhost" + listen + "/"
	}
	return listen + "/"
}

// publishAssets uploads this version's static files that the bucket lacks (the operator's Job
// runs it once per app version, as the role the cell names), with their content type and
// immutable caching.
func publishAssets(ctx context.Context, log *slog.Logger, args []string) int {
	fs := flag.NewFlagSet("publish-assets", flag.ContinueOnError)
	bucket := fs.String("bucket", "", "the S3 bucket of the cell's assets")
	prefix := fs.String("prefix", "static", "the key prefix the files go under (the CDN serves it as a path)")
	region := fs.String("region", "", "the bucket's AWS region (default: from the environment)")
	endpoint := fs.String("endpoint-url", "", "an S3-compatible endpoint instead of AWS's (tests and stand-ins); addressed path-style")
	owner := fs.String("expected-bucket-owner", "", "the AWS account ID the bucket must belong to: S3 refuses every call to a bucket of another account")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *bucket == "" || *owner == "" {
		fmt.Fprintln(os.Stderr, "publish-assets: --bucket and --expected-bucket-owner are required")
		return exitUsage
	}
	var opts []func(*awsconfig.LoadOptions) error
	if *region != "" {
		opts = append(opts, awsconfig.WithRegion(*region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		log.Error("loading the AWS configuration", "error", err)
		return exitUsage
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if *endpoint != "" {
			o.BaseEndpoint, o.UsePathStyle = endpoint, true
		}
	})
	p, err := assets.Publish(ctx, client, *bucket, *prefix, *owner)
	if err != nil {
		log.Error("publishing the assets", "bucket", *bucket, "error", err)
		return exitFailed
	}
	log.Info("assets published", "bucket", *bucket, "prefix", *prefix, "uploaded", p.Uploaded, "alreadyThere", len(p.Present))
	return exitOK
}

// restConfig is the Kubernetes client configuration: the kubeconfig file named, or the pod's
// in-cluster configuration.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return rest.InClusterConfig()
}
