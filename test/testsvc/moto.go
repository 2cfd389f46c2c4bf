package testsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// StartMoto starts moto_server, an AWS-protocol server (moto 5.2.1 with its server extra), on a
// free loopback port, for the AWS APIs ACK lacks (RDS snapshot copies across regions). Its
// state lives in the process: each server starts empty. URL is what BaseEndpoint takes.
func StartMoto() (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		// Where pyenv and pip put it when their directories are not on PATH.
		for _, p := range []string{"/root/.pyenv/shims/moto_server", "/usr/local/bin/moto_server"} {
			if fileExists(p) {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("moto_server not found: the disaster-recovery tests need moto 5.2.1 with its server extra (pip install 'moto[server]==5.2.1'); hack/test-deps.sh checks for it")
	}
	port, err := freePortOn("127.0.0.1")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testsvc-moto-")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", fmt.Sprint(port)), dir: dir, log: filepath.Join(dir, "moto.log")}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	logf.Close()
	if err := waitTCP(s.Addr, 30*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("moto_server: %w (its log: %s)", err, s.log)
	}
	return &Moto{Server: s, URL: "http://" + s.Addr}, nil
}

// Moto is a running moto_server.
type Moto struct {
	*Server
	URL string
}

// Config is an AWS configuration for this server: moto checks no credentials, but the SDK signs
// every request and needs some.
func (m *Moto) Config() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

// RDS is an RDS client of region, on this server.
func (m *Moto) RDS(region string) *rds.Client {
	return rds.NewFromConfig(m.Config(), func(o *rds.Options) { o.Region, o.BaseEndpoint = region, aws.String(m.URL) })
}

// KMSKey makes a KMS key in region, as a platform engineer would for the copies it receives,
// and returns its ARN.
func (m *Moto) KMSKey(ctx context.Context, region string) (string, error) {
	k := kms.NewFromConfig(m.Config(), func(o *kms.Options) { o.Region, o.BaseEndpoint = region, aws.String(m.URL) })
	out, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("tenant copies")})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.KeyMetadata.Arn), nil
}

// HostedZone makes a Route53 hosted zone for name and returns its ID. Route53's zone IDs start
// with Z (as a RegionCell's schema checks); moto's are random letters and digits, so zones are
// made until one looks like Route53's: a weakness of the stand-in, played, not a change of the
// schema.
func (m *Moto) HostedZone(ctx context.Context, name string) (string, error) {
	r53 := route53.NewFromConfig(m.Config(), func(o *route53.Options) { o.BaseEndpoint = aws.String(m.URL) })
	for i := 0; i < 1000; i++ {
		z, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(fmt.Sprint(name, "-", i, "-", time.Now().UnixNano()))})
		if err != nil {
			return "", err
		}
		if id := strings.TrimPrefix(aws.ToString(z.HostedZone.Id), "/hostedzone/"); strings.HasPrefix(id, "Z") {
			return id, nil
		}
	}
	return "", fmt.Errorf("moto made no hosted zone ID starting with Z in 1,000 tries")
}

// MainWithMoto is a TestMain for a package whose tests share one moto_server: it starts it into
// *moto, runs the tests, stops it and exits with their code.
func MainWithMoto(m *testing.M, moto **Moto) {
	var err error
	if *moto, err = StartMoto(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	(*moto).Stop()
	os.Exit(code)
}

// SentMail is a mail SES accepted, as moto keeps it.
type SentMail struct {
	Source, Subject, Body string
	To                    []string
}

// SentMail lists the mail moto's SES accepted (its moto-api data): a test reads the mail a
// customer would find in their inbox.
func (m *Moto) SentMail(ctx context.Context) ([]SentMail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/data.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var data struct {
		SES struct {
			Message []struct {
				Source       string `json:"source"`
				Subject      string `json:"subject"`
				Body         string `json:"body"`
				Destinations struct {
					ToAddresses []string `json:"ToAddresses"`
				} `json:"destinations"`
			} `json:"Message"`
		} `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		return nil, fmt.Errorf("moto's data: %w", err)
	}
	out := make([]SentMail, 0, len(data.SES.Message))
	for _, msg := range data.SES.Message {
		out = append(out, SentMail{Source: msg.Source, Subject: msg.Subject, Body: msg.Body, To: msg.Destinations.ToAddresses})
	}
	return out, nil
}
