// Package oci builds OCI image tarballs of static Go binaries without Docker: one layer holding the
// binary (and optionally a CA bundle), run as 65532, written as a tarball that `docker load`,
// `ctr images import` and registries accept.
package oci

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CABundlePath is where Go's crypto/x509 looks first for the system roots on Linux.
const CABundlePath = "etc/ssl/certs/ca-certificates.crt"

// Image is one image to build.
type Image struct {
	Name, Package, Binary string
	Cmd                   []string
	Ports                 []string
	// CABundle is a PEM file installed as the image's system roots; without one the image trusts
	// nothing, which suits only binaries that make no TLS connections.
	CABundle string
	// User runs the entrypoint; 65532:65532 (distroless nonroot) when empty.
	User string
}

// Build compiles im's binary statically (from dir, the module root) and writes the image tarball
// <out>/<binary>.tar tagged name:version.
func Build(im Image, version, moduleDir, out string) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(out, im.Binary)
	if !filepath.IsAbs(bin) {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", err
		}
		bin = abs
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, im.Package)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", im.Package, err)
	}
	files := []file{{name: im.Binary, mode: 0o755, path: bin}}
	if im.CABundle != "" {
		files = append(files, file{name: CABundlePath, mode: 0o644, path: im.CABundle})
	}
	layerTar, err := tarOf(files)
	if err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return "", err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return "", err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cfg := cf.Config
	cfg.Entrypoint = []string{"/" + im.Binary}
	cfg.Cmd = im.Cmd
	cfg.User = im.User
	if cfg.User == "" {
		cfg.User = "65532:65532"
	}
	cfg.WorkingDir = "/"
	cfg.Env = []string{"PATH=/"}
	cfg.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/tenantops/tenant-operator",
		"org.opencontainers.image.version": version}
	if len(im.Ports) > 0 {
		cfg.ExposedPorts = map[string]struct{}{}
		for _, p := range im.Ports {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{Architecture: "amd64", OS: "linux", Config: cfg, RootFS: cf.RootFS, Created: v1.Time{Time: time.Unix(0, 0)}})
	if err != nil {
		return "", err
	}
	ref, err := name.NewTag(im.Name + ":" + version)
	if err != nil {
		return "", err
	}
	path := filepath.Join(out, im.Binary+".tar")
	return path, tarball.WriteToFile(path, ref, img)
}

type file struct {
	name string
	mode int64
	path string
}

// tarOf is a layer holding /tmp and each file with its parent directories, owned by root, at
// time zero, so the same inputs give the same digest.
func tarOf(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{"tmp/": true}
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: time.Unix(0, 0)}); err != nil {
		return nil, err
	}
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		var parents []string
		for d := filepath.Dir(f.name); d != "." && d != "/"; d = filepath.Dir(d) {
			parents = append([]string{d + "/"}, parents...)
		}
		for _, d := range parents {
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
				return nil, err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: f.mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
