package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/app/internal/console"
	"github.com/tenantops/tenant-operator/app/internal/mail"
)

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runConsole serves the signup console (docs/console.md): Tenants are created through the
// Kubernetes API as the console's own ServiceAccount.
func runConsole(ctx context.Context, log *slog.Logger, args []string) int {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	listen := fs.String("listen", ":8080", "address to serve the console on")
	publicURL := fs.String("public-url", "http://localhost:8080", "where customers reach the console: the verification links' base")
	baseDomain := fs.String("base-domain", "", "the domain stores are served under, as the signup page shows it")
	mailFrom := fs.String("mail-from", "", "the SES-verified sender of the verification mail")
	printLinks := fs.Bool("print-links", false, "without SES: write the whole verification mail, link included, to the log (local use only: a link creates a tenant)")
	useSES := fs.Bool("ses", false, "send the verification mail through SES (AWS_ENDPOINT_URL_SESV2 points it elsewhere); otherwise it is written to the log")
	keyFile := fs.String("token-key-file", "", "file holding the HMAC key that signs verification links (the chart mounts a Secret); required")
	webhookKeyFile := fs.String("webhook-hmac-key-file", "", "file holding the HMAC key that signs the signup CloudEvents")
	var webhooks listFlag
	fs.Var(&webhooks, "webhook-url", "receiver of the signup CloudEvents (CRM, billing); repeat for more")
	kubeconfig := fs.String("kubeconfig", "", "outside a cluster: the kubeconfig to create Tenants with")
	trustXFF := fs.Bool("trust-forwarded-for", false, "take the client address from X-Forwarded-For (behind the Ingress), for the rate limits")
	perClient := fs.Int("signups-per-client", 5, "signups allowed per client address per hour")
	perDomain := fs.Int("signups-per-domain", 20, "signups allowed per e-mail domain per hour")
	role := fs.String("role", "signup", "signup: the public signup; admin: the platform team's view, behind OIDC sign-in")
	oidcIssuer := fs.String("oidc-issuer", "", "admin: the OIDC provider's issuer URL")
	oidcClientID := fs.String("oidc-client-id", "tenantops-console", "admin: this client's ID at the provider")
	oidcSecretFile := fs.String("oidc-client-secret-file", "", "admin: file holding this client's secret")
	var adminEmails listFlag
	fs.Var(&adminEmails, "admin-email", "admin: an e-mail that may sign in; repeat for more")
	adminGroup := fs.String("admin-group", "", "admin: members of this group (the ID token's groups claim) may sign in")
	mode := fs.String("mode", "direct", "direct: create Tenants through the Kubernetes API; git: commit their YAML to --git-url for Argo CD or Flux to apply")
	gitURL := fs.String("git-url", "", "git mode: the repository (https:// or ssh://)")
	gitBranch := fs.String("git-branch", "main", "git mode: the branch to commit to")
	gitDir := fs.String("git-dir", "tenants", "git mode: the directory of the Tenant files in the repository")
	gitUser := fs.String("git-username", "", "git mode over HTTPS: the user of --git-password-file's token")
	gitPasswordFile := fs.String("git-password-file", "", "git mode over HTTPS: file holding the token to push with")
	gitSSHKeyFile := fs.String("git-ssh-key-file", "", "git mode over SSH: file holding the private key to push with")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil || len(strings.TrimSpace(string(key))) < 16 {
		log.Error("--token-key-file must name a file of at least 16 bytes", "error", err)
		return exitUsage
	}
	var webhookKey []byte
	if *webhookKeyFile != "" {
		if webhookKey, err = os.ReadFile(*webhookKeyFile); err != nil {
			log.Error("reading --webhook-hmac-key-file", "error", err)
			return exitUsage
		}
	}
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		log.Error("the console needs the in-cluster configuration or --kubeconfig", "error", err)
		return exitUsage
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		log.Error("scheme", "error", err)
		return exitFailed
	}
	if err := saasv1.AddToScheme(scheme); err != nil {
		log.Error("scheme", "error", err)
		return exitFailed
	}
	kc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		log.Error("kubernetes client", "error", err)
		return exitUsage
	}
	tokens := console.Tokens{Key: []byte(strings.TrimSpace(string(key)))}
	var repo *console.Git
	switch *mode {
	case "direct":
	case "git":
		auth, err := gitAuth(*gitUser, *gitPasswordFile, *gitSSHKeyFile)
		if err != nil || *gitURL == "" {
			log.Error("git mode needs --git-url and its credentials", "error", err)
			return exitUsage
		}
		repo = &console.Git{Reader: console.Direct{Client: kc}, URL: *gitURL, Branch: *gitBranch, Dir: *gitDir, Auth: auth,
			AuthorName: "signup console", AuthorEmail: *mailFrom}
	default:
		log.Error("--mode must be direct or git", "mode", *mode)
		return exitUsage
	}
	if *role == "admin" {
		secret, err := os.ReadFile(*oidcSecretFile)
		if err != nil {
			log.Error("admin: reading --oidc-client-secret-file", "error", err)
			return exitUsage
		}
		admin, err := console.NewAdmin(ctx, console.AdminConfig{PublicURL: *publicURL, Issuer: *oidcIssuer, ClientID: *oidcClientID,
			ClientSecret: strings.TrimSpace(string(secret)), Emails: adminEmails, Group: *adminGroup, Git: repo}, kc, tokens, log)
		if err != nil {
			log.Error("admin", "error", err)
			return exitUsage
		}
		return serveConsole(ctx, log, *listen, *publicURL, admin, func() {})
	}
	var tenants console.Tenants = console.Direct{Client: kc}
	if repo != nil {
		tenants = repo
	}
	var mailer mail.Mailer = mail.Log{Logger: log}
	if *printLinks {
		mailer = fullMailLog{log}
	}
	if *useSES {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			log.Error("AWS configuration", "error", err)
			return exitUsage
		}
		mailer = mail.SES{Client: sesv2.NewFromConfig(awsCfg)}
	}
	events := &console.Emitter{URLs: webhooks, Key: webhookKey, Log: log}
	srv := console.New(console.Config{PublicURL: *publicURL, BaseDomain: *baseDomain, MailFrom: *mailFrom, TrustForwardedFor: *trustXFF,
		PerClient: *perClient, PerDomain: *perDomain}, tenants, mailer, tokens, events, log)
	go srv.Run(ctx)
	return serveConsole(ctx, log, *listen, *publicURL, srv, events.Wait)
}

// serveConsole serves h until ctx ends, then stops gracefully and runs drain.
func serveConsole(ctx context.Context, log *slog.Logger, listen, public string, h http.Handler, drain func()) int {
	hs := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("console serving", "address", listen, "public", public)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving", "error", err)
			return exitFailed
		}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdown)
	drain()
	return exitOK
}

// gitAuth is how git mode pushes: a token over HTTPS, or a key over SSH (the host's key checked
// against the known hosts, $SSH_KNOWN_HOSTS).
func gitAuth(user, passwordFile, sshKeyFile string) (transport.AuthMethod, error) {
	switch {
	case sshKeyFile != "":
		return gitssh.NewPublicKeysFromFile("git", sshKeyFile, "")
	case passwordFile != "":
		pw, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, err
		}
		return &githttp.BasicAuth{Username: user, Password: strings.TrimSpace(string(pw))}, nil
	}
	return nil, nil
}

// fullMailLog writes whole mails to the log, for a console run locally (make demo).
type fullMailLog struct{ log *slog.Logger }

func (l fullMailLog) Send(_ context.Context, m mail.Message) error {
	l.log.Info("mail (not sent: no SES configured; --print-links)", "from", m.From, "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
