// Package console is the design's control panel: the public signup a customer uses (a page and a
// JSON API, the e-mail verified before anything is created) and the progress page that follows
// the new Tenant's conditions. `app console` serves it. Its decisions (what a signup must hold,
// the Tenant it becomes, the verification token, the rate limits) are pure and tested here;
// docs/console.md says how it is run.
package console

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Signup is what a customer asks for.
type Signup struct {
	Company    string `json:"company"`
	Subdomain  string `json:"subdomain"`
	Region     string `json:"region"`
	Tier       string `json:"tier"`
	AdminEmail string `json:"adminEmail"`
}

// FieldErrors are what is wrong with a signup, by field (its JSON name), in words a customer
// reads.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+f[k])
	}
	return strings.Join(parts, "; ")
}

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// email is the Tenant's spec.adminEmail rule, as admission checks it.
	email = regexp.MustCompile(`^[^@\s]+@([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$`)
)

// decodeSignup reads a signup from JSON, refusing unknown fields and, naming the field, text
// that is not valid UTF-8 or holds control characters (encoding/json would quietly replace
// invalid bytes with U+FFFD).
func decodeSignup(r io.Reader) (Signup, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return Signup{}, err
	}
	fe := FieldErrors{}
	for name, v := range raw {
		switch name {
		case "company", "subdomain", "region", "tier", "adminEmail":
		default:
			return Signup{}, fmt.Errorf("unknown field %q", name)
		}
		var text string
		if !utf8.Valid(v) {
			fe[name] = "not valid UTF-8 text"
		} else if err := json.Unmarshal(v, &text); err == nil && strings.ContainsRune(text, utf8.RuneError) {
			fe[name] = "not valid UTF-8 text" // an escaped lone surrogate decodes to U+FFFD
		} else if err := json.Unmarshal(v, &text); err != nil {
			fe[name] = "must be text"
		} else if strings.ContainsFunc(text, unicode.IsControl) {
			fe[name] = "holds control characters"
		}
	}
	if len(fe) > 0 {
		return Signup{}, fe
	}
	body, _ := json.Marshal(raw)
	var s Signup
	return s, json.Unmarshal(body, &s)
}

// Normalize trims what people type around their answers and lower-cases the subdomain.
func (s Signup) Normalize() Signup {
	s.Company = strings.TrimSpace(s.Company)
	s.Subdomain = strings.ToLower(strings.TrimSpace(s.Subdomain))
	s.Region = strings.TrimSpace(s.Region)
	s.Tier = strings.TrimSpace(s.Tier)
	s.AdminEmail = strings.TrimSpace(s.AdminEmail)
	if s.Tier == "" {
		s.Tier = saasv1.TierPooled
	}
	return s
}

// CheckSubdomain says what is wrong with a subdomain, "" when nothing (its availability is the
// cluster's to say).
func CheckSubdomain(sub string) string {
	switch {
	case sub == "":
		return "choose the address of your store"
	case len(sub) > 63:
		return "at most 63 characters"
	case !dnsLabel.MatchString(sub):
		return "lower-case letters, digits and '-' only, not at the start or end"
	case slices.Contains(saasv1.ReservedSubdomains, sub):
		return fmt.Sprintf("%q is kept for the platform", sub)
	}
	return ""
}

// Validate says what is wrong with a normalized signup; regions are those with a cell.
func (s Signup) Validate(regions []string) error {
	errs := FieldErrors{}
	switch {
	case s.Company == "":
		errs["company"] = "tell us your company's name"
	case len(s.Company) > 128:
		errs["company"] = "at most 128 characters"
	}
	if msg := CheckSubdomain(s.Subdomain); msg != "" {
		errs["subdomain"] = msg
	}
	if !slices.Contains(regions, s.Region) {
		errs["region"] = "choose one of the regions offered: " + strings.Join(regions, ", ")
	}
	if s.Tier != saasv1.TierPooled && s.Tier != saasv1.TierDedicated {
		errs["tier"] = "pooled or dedicated"
	}
	if len(s.AdminEmail) > 254 || !email.MatchString(s.AdminEmail) {
		errs["adminEmail"] = "an e-mail address such as admin@acme.com"
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// EmailDomain is the domain part of the signup's e-mail, lower-cased: what the per-domain rate
// limit counts.
func (s Signup) EmailDomain() string {
	_, domain, _ := strings.Cut(s.AdminEmail, "@")
	return strings.ToLower(domain)
}

// Tenant is the Tenant a verified signup becomes: what a platform engineer would write by hand
// for it, and nothing more (the operator's defaults do the rest). The name is the subdomain,
// so that a subdomain is taken exactly when a Tenant of that name exists.
func (s Signup) Tenant() *saasv1.Tenant {
	return &saasv1.Tenant{
		TypeMeta:   metav1.TypeMeta{APIVersion: saasv1.GroupVersion.String(), Kind: "Tenant"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Subdomain, Labels: map[string]string{LabelSignup: "console"}},
		Spec: saasv1.TenantSpec{
			DisplayName: s.Company, Subdomain: s.Subdomain, Region: s.Region, Tier: s.Tier, AdminEmail: s.AdminEmail,
		},
	}
}

// LabelSignup marks the Tenants the console made, so the platform team can tell them.
const LabelSignup = "saas.tenantops.io/signup"
