// Command images builds the operator's and the app's OCI images without Docker: each a static
// Go binary on an empty base (the same shape as the Dockerfiles' distroless static images, less
// their CA certificates and tzdata, which the binaries do not need locally), run as 65532,
// written as image tarballs that `docker load`, `ctr images import` and registries accept.
//
//	go run ./hack/images -out bin/images -version dev
package main

import (
	"archive/tar"
	"bytes"
	"flag"
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

// Image is one image to build.
type Image struct {
	Name, Package, Binary string
	Cmd                   []string
	Ports                 []string
}

var images = []Image{
	{Name: "ghcr.io/tenantops/tenant-operator", Package: ".", Binary: "tenant-operator"},
	{Name: "ghcr.io/tenantops/app", Package: "./app", Binary: "app", Cmd: []string{"serve"}, Ports: []string{"8080/tcp"}},
}

func main() {
	out := flag.String("out", "bin/images", "directory for the image tarballs")
	version := flag.String("version", "dev", "image tag")
	only := flag.String("only", "", "build only the image of this binary (tenant-operator or app)")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	for _, im := range images {
		if *only != "" && im.Binary != *only {
			continue
		}
		path, err := Build(im, *version, *out)
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s:%s -> %s\n", im.Name, *version, path)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "images:", err)
	os.Exit(1)
}

// Build compiles im's binary statically and writes its image tarball into dir.
func Build(im Image, version, dir string) (string, error) {
	bin := filepath.Join(dir, im.Binary)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, im.Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", im.Package, err)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return tarOf(im.Binary, binary), nil })
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
	cfg.User = "65532:65532"
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
	path := filepath.Join(dir, im.Binary+".tar")
	return path, tarball.WriteToFile(path, ref, img)
}

// tarOf is a layer holding the binary at /name (mode 0755, owned by root, time zero) and /tmp.
func tarOf(name string, binary []byte) io.ReadCloser {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: time.Unix(0, 0)})
	_ = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(binary)), ModTime: time.Unix(0, 0)})
	_, _ = tw.Write(binary)
	_ = tw.Close()
	return io.NopCloser(bytes.NewReader(buf.Bytes()))
}
