package console

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func good() Signup {
	return Signup{Company: "Acme Corp", Subdomain: "acme", Region: "eu-west-1", Tier: "pooled", AdminEmail: "it@acme.example"}
}

func TestValidate(t *testing.T) {
	regions := []string{"eu-west-1", "us-east-1"}
	cases := []struct {
		name   string
		mutate func(*Signup)
		field  string // "" when valid
		words  string
	}{
		{"a good signup", func(*Signup) {}, "", ""},
		{"dedicated", func(s *Signup) { s.Tier = "dedicated" }, "", ""},
		{"no company", func(s *Signup) { s.Company = "" }, "company", "name"},
		{"a long company", func(s *Signup) { s.Company = strings.Repeat("x", 129) }, "company", "128"},
		{"an upper-case subdomain is not normalized here", func(s *Signup) { s.Subdomain = "Acme" }, "subdomain", "lower-case"},
		{"a subdomain with a dot", func(s *Signup) { s.Subdomain = "acme.corp" }, "subdomain", "lower-case"},
		{"a subdomain ending with -", func(s *Signup) { s.Subdomain = "acme-" }, "subdomain", "not at the start or end"},
		{"a long subdomain", func(s *Signup) { s.Subdomain = strings.Repeat("a", 64) }, "subdomain", "63"},
		{"a reserved subdomain", func(s *Signup) { s.Subdomain = "admin" }, "subdomain", "kept for the platform"},
		{"a region without a cell", func(s *Signup) { s.Region = "ap-south-1" }, "region", "eu-west-1, us-east-1"},
		{"an unknown tier", func(s *Signup) { s.Tier = "gold" }, "tier", "pooled or dedicated"},
		{"a bad e-mail", func(s *Signup) { s.AdminEmail = "it@acme" }, "adminEmail", "e-mail address"},
		{"an e-mail with a space", func(s *Signup) { s.AdminEmail = "i t@acme.example" }, "adminEmail", "e-mail address"},
	}
	for _, c := range cases {
		s := good()
		c.mutate(&s)
		err := s.Validate(regions)
		var fe FieldErrors
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field != "" && (!errors.As(err, &fe) || !strings.Contains(fe[c.field], c.words) || len(fe) != 1):
			t.Errorf("%s: %v, want only %s saying %q", c.name, err, c.field, c.words)
		}
	}
}

func TestNormalize(t *testing.T) {
	s := Signup{Company: "  Acme ", Subdomain: " ACME ", Region: "eu-west-1 ", AdminEmail: " it@acme.example "}.Normalize()
	if s.Company != "Acme" || s.Subdomain != "acme" || s.Region != "eu-west-1" || s.Tier != "pooled" || s.AdminEmail != "it@acme.example" {
		t.Errorf("%+v", s)
	}
	if d := (Signup{AdminEmail: "IT@Acme.Example"}).EmailDomain(); d != "acme.example" {
		t.Errorf("domain %q", d)
	}
}

// The Tenant a signup becomes is the YAML a platform engineer writes by hand, nothing more.
func TestTenantIsWhatAPlatformEngineerWrites(t *testing.T) {
	got, err := yaml.Marshal(good().Tenant())
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: saas.tenantops.io/v1alpha1
kind: Tenant
metadata:
  labels:
    saas.tenantops.io/signup: console
  name: acme
spec:
  adminEmail: it@acme.example
  database: {}
  displayName: Acme Corp
  recommendations: {}
  region: eu-west-1
  subdomain: acme
  tier: pooled
status: {}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The console's reserved words are the ones admission refuses: one list, held to the CRD.
func TestReservedSubdomainsAreTheCRDs(t *testing.T) {
	crd, err := os.ReadFile(filepath.Join("..", "..", "..", "config", "crd", "bases", "saas.tenantops.io_tenants.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema struct {
						Properties map[string]struct {
							Properties map[string]struct {
								Validations []struct {
									Rule string `json:"rule"`
								} `json:"x-kubernetes-validations"`
							} `json:"properties"`
						} `json:"properties"`
					} `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(crd, &doc); err != nil || len(doc.Spec.Versions) == 0 {
		t.Fatalf("the CRD: %v", err)
	}
	quoted := make([]string, len(saasv1.ReservedSubdomains))
	for i, w := range saasv1.ReservedSubdomains {
		quoted[i] = "'" + w + "'"
	}
	want := "!(self in [" + strings.Join(quoted, ", ") + "])"
	for _, v := range doc.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["subdomain"].Validations {
		if v.Rule == want {
			return
		}
	}
	t.Errorf("spec.subdomain's rules do not refuse exactly %v (%s)", saasv1.ReservedSubdomains, want)
}
