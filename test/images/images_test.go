// Package images_test builds the app's OCI image the way hack/images does and checks that it
// runs: its filesystem extracted, its entrypoint started as its user (65532) with its default
// command, and the embedded default serving a tenant page. No container runtime runs here; this
// is what one would do with the image.
package images_test

import (
	"archive/tar"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tenantops/tenant-operator/test/testenv"
)

func TestAppImageRuns(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "run", "./hack/images", "-out", dir, "-version", "test", "-only", "app")
	build.Dir = testenv.Root()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the image: %v\n%s", err, out)
	}
	img, err := tarball.ImageFromPath(filepath.Join(dir, "app.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if strings.Join(c.Entrypoint, " ") != "/app" || strings.Join(c.Cmd, " ") != "serve" || c.User != "65532:65532" || cf.OS != "linux" {
		t.Fatalf("image config: %+v", c)
	}

	root := filepath.Join(dir, "rootfs")
	if err := extract(mutate.Extract(img), root); err != nil {
		t.Fatal(err)
	}
	// The app speaks TLS to ElastiCache, SES and SQS: the image carries the system's roots
	// where Go's crypto/x509 looks for them.
	bundle, err := os.ReadFile(filepath.Join(root, "etc", "ssl", "certs", "ca-certificates.crt"))
	if err != nil {
		t.Fatalf("the image has no CA bundle: %v", err)
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(bundle) {
		t.Fatalf("the image's CA bundle holds no certificate")
	}
	port, opsPort := freePort(t), freePort(t)
	args := append(append([]string{}, c.Cmd...), "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--ops-listen", fmt.Sprintf("127.0.0.1:%d", opsPort), "--data-dir", filepath.Join(root, "tmp", "data"))
	cmd := exec.Command(filepath.Join(root, strings.TrimPrefix(c.Entrypoint[0], "/")), args...)
	cmd.Env = c.Env
	cmd.Dir = root
	if os.Geteuid() == 0 {
		// Run as the image's user, as a container runtime would.
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's directories are 0700
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/", nil)
		req.Host = "acme.localhost"
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "Acme Corporation") {
				t.Fatalf("GET / for acme: %d %.300s", resp.StatusCode, body)
			}
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", opsPort))
			if err != nil {
				t.Fatalf("the ops port: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET /readyz on the ops port: %d", resp.StatusCode)
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the image's app never answered: %v\n%s", err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func extract(r io.ReadCloser, root string) error {
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(root, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, os.FileMode(h.Mode)|0o755); err != nil {
				return err
			}
			_ = os.Chmod(p, os.FileMode(h.Mode)|os.ModeSticky)
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode))
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			f.Close()
		}
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
