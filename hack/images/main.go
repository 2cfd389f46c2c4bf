// Command images builds the operator's and the app's OCI images without Docker: each a static
// Go binary and the system's CA certificates on an empty base (the shape of the Dockerfiles'
// distroless static images), run as 65532, written as image tarballs that `docker load`,
// `ctr images import` and registries accept. Both binaries make TLS connections to AWS (SNS, SES,
// SQS, ElastiCache in transit), so the roots are part of the image.
//
//	go run ./hack/images -out bin/images -version dev [-ca-bundle FILE]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tenantops/tenant-operator/hack/images/oci"
)

var images = []oci.Image{
	{Name: "ghcr.io/tenantops/tenant-operator", Package: ".", Binary: "tenant-operator"},
	{Name: "ghcr.io/tenantops/app", Package: "./app", Binary: "app", Cmd: []string{"serve"}, Ports: []string{"8080/tcp", "9090/tcp"}},
}

func main() {
	out := flag.String("out", "bin/images", "directory for the image tarballs")
	version := flag.String("version", "dev", "image tag")
	only := flag.String("only", "", "build only the image of this binary (tenant-operator or app)")
	caBundle := flag.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle installed as the images' system roots (a company's private CA goes here too)")
	flag.Parse()
	if _, err := os.Stat(*caBundle); err != nil {
		fail(fmt.Errorf("the CA bundle: %w (install ca-certificates or pass -ca-bundle)", err))
	}
	for _, im := range images {
		if *only != "" && im.Binary != *only {
			continue
		}
		im.CABundle = *caBundle
		path, err := oci.Build(im, *version, ".", *out)
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
