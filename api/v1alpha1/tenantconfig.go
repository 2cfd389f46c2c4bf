package v1alpha1

// Keys of a tenant configuration Secret: what the app needs to serve a tenant. The operator
// writes them and the app reads them, from the Secret or from a directory of files of the same
// names (the Secret mounted as a volume).
const (
	ConfigTenantID       = "tenant-id"
	ConfigDisplayName    = "display-name"
	ConfigHosts          = "hosts" // comma-separated host names
	ConfigDBDriver       = "db-driver"
	ConfigDBHost         = "db-host"
	ConfigDBPort         = "db-port"
	ConfigDBName         = "db-name"
	ConfigDBUser         = "db-user"
	ConfigDBPassword     = "db-password"
	ConfigDBPasswordRef  = "db-password-secret"
	ConfigCacheAddress   = "cache-address"
	ConfigCacheKeyPrefix = "cache-key-prefix"
	ConfigMailSender     = "mail-sender"
	ConfigMailConfigSet  = "mail-configuration-set"
	ConfigAdminEmail     = "admin-email"
	ConfigSuspended      = "suspended"
	// ConfigAssetsBaseURL is where the tenant's pages load their static files (the cell's CDN);
	// without it the app serves them itself, under /static.
	ConfigAssetsBaseURL = "assets-base-url"
	// ConfigLogoURL is the tenant's own logo; without it the default one is shown.
	ConfigLogoURL = "logo-url"
)
