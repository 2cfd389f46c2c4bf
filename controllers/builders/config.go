package builders

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Endpoints are what AWS reported for the tenant's stores.
type Endpoints struct {
	DBAddress    string
	DBPort       int64
	CacheAddress string
	CachePort    int64
	// AssetsBaseURL is where the tenant's pages load their static files (the cell's CDN); empty,
	// the app serves them itself.
	AssetsBaseURL string
}

// TenantConfig is the tenant's configuration record as cell c serves it: the Secret the app
// reads to serve the tenant. It carries the database password because the app needs it to
// connect; the reference names where it comes from. In a cell's namespace it is marked with
// that cell; in the tenant's, with its home cell.
func TenantConfig(t *saasv1.Tenant, c *saasv1.RegionCell, namespace, name string, ep Endpoints, password string) *corev1.Secret {
	labels := TenantLabels(t, c, "config")
	if namespace == CellNamespace(c) {
		labels = tenantLabelsIn(t, c.Name, "config")
	}
	labels[saasv1.LabelTenantConfig] = "true"
	data := map[string]string{
		saasv1.ConfigTenantID:       t.Name,
		saasv1.ConfigDBDriver:       "mysql",
		saasv1.ConfigDisplayName:    t.Spec.DisplayName,
		saasv1.ConfigHosts:          Host(t, c),
		saasv1.ConfigDBHost:         ep.DBAddress,
		saasv1.ConfigDBPort:         strconv.FormatInt(ep.DBPort, 10),
		saasv1.ConfigDBName:         DBName,
		saasv1.ConfigDBUser:         DBMasterUsername,
		saasv1.ConfigDBPassword:     password,
		saasv1.ConfigDBPasswordRef:  TenantNamespace(t) + "/" + DBPasswordSecretName,
		saasv1.ConfigCacheAddress:   ep.CacheAddress + ":" + strconv.FormatInt(ep.CachePort, 10),
		saasv1.ConfigCacheKeyPrefix: CacheKeyPrefix(t),
		saasv1.ConfigAdminEmail:     t.Spec.AdminEmail,
		saasv1.ConfigSuspended:      strconv.FormatBool(t.Spec.Suspended),
	}
	if t.Spec.LogoURL != "" {
		data[saasv1.ConfigLogoURL] = t.Spec.LogoURL
	}
	if ep.AssetsBaseURL != "" {
		data[saasv1.ConfigAssetsBaseURL] = ep.AssetsBaseURL
	}
	if e := c.Spec.Email; e != nil {
		data[saasv1.ConfigMailSender] = e.Sender
		if e.ConfigurationSet != "" {
			data[saasv1.ConfigMailConfigSet] = e.ConfigurationSet
		}
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Type:       corev1.SecretTypeOpaque,
		StringData: nil,
		Data:       bytesMap(data),
	}
}

func bytesMap(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
