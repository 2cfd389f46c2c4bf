// Package rollout decides which versions run: the version the shared app of a cell rolls out to
// once its tenants have migrated, the versions whose files a cell must publish, and the next
// step of a cell's rollout of its database defaults to its tenants' databases. Its functions
// are pure, over the cell and tenants the caller listed.
package rollout

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// AppTarget decides the version the shared app runs: the spec's version once every pooled
// tenant that follows the cell (upgradeStrategy Auto) has migrated to it, the current one until
// then. A failed migration holds the rollout and names the tenants.
func AppTarget(c *saasv1.RegionCell, tenants []saasv1.Tenant) (string, verdict.Part) {
	want, serving := c.Spec.App.Version, c.Status.AppVersion
	if serving == "" || serving == want {
		return want, verdict.Ready(saasv1.ConditionRolloutComplete, "UpToDate", "the shared app runs "+want)
	}
	var failed, pending []string
	for _, t := range tenants {
		if t.Spec.Tier == saasv1.TierDedicated || !t.DeletionTimestamp.IsZero() || b.EffectiveAppVersion(&t, c) != want {
			continue
		}
		lm := t.Status.LastMigration
		switch {
		case lm != nil && lm.Version == want && lm.Succeeded:
		case lm != nil && lm.Version == want:
			failed = append(failed, t.Name)
		default:
			pending = append(pending, t.Name)
		}
	}
	switch {
	case len(failed) > 0:
		return serving, verdict.Stalled(saasv1.ConditionRolloutComplete, "MigrationFailed",
			fmt.Sprintf("rollout to %s held at %s: migration failed for tenants %s", want, serving, strings.Join(failed, ", ")))
	case len(pending) > 0:
		return serving, verdict.Waiting(saasv1.ConditionRolloutComplete, "Migrating",
			fmt.Sprintf("rollout to %s waits for the migrations of %d tenants (%s)", want, len(pending), strings.Join(verdict.Few(pending, 5), ", ")))
	}
	return want, verdict.Ready(saasv1.ConditionRolloutComplete, "UpToDate", "the shared app runs "+want)
}

// DefaultsRollout is the next state of the cell's database defaults rollout.
func DefaultsRollout(c *saasv1.RegionCell, tenants []saasv1.Tenant) (*saasv1.DatabaseRollout, verdict.Part) {
	rev := c.Spec.Database.Revision
	if rev == "" {
		return nil, verdict.Ready(saasv1.ConditionDatabaseDefaultsRolledOut, "NewDatabasesOnly",
			"the database defaults apply to new databases; set spec.database.revision to roll them out to existing ones")
	}
	ro := &saasv1.DatabaseRollout{Revision: rev}
	var waitingNames []string
	for i := range tenants {
		t := &tenants[i]
		eff := t.Status.EffectiveDatabase
		if eff == nil || !t.DeletionTimestamp.IsZero() {
			continue // no database yet: it is created with the current defaults
		}
		if eff.DefaultsRevision != rev {
			waitingNames = append(waitingNames, t.Name)
			continue
		}
		db := verdict.Condition(t.Status.Conditions, saasv1.ConditionDatabaseReady)
		switch {
		case db.Reason == ReasonDefaultsRefused:
			ro.Failed = append(ro.Failed, t.Name)
		case db.Status == metav1.ConditionTrue && db.ObservedGeneration == t.Generation:
			ro.Updated++
		case verdict.Condition(t.Status.Conditions, saasv1.ConditionStalled).Status == metav1.ConditionTrue && db.Status != metav1.ConditionTrue:
			ro.Failed = append(ro.Failed, t.Name)
		default:
			ro.InProgress = append(ro.InProgress, t.Name)
		}
	}
	// Tenants the last reconcile put in the batch stay there until their database moved.
	if prev := c.Status.DatabaseRollout; prev != nil && prev.Revision == rev {
		for _, name := range prev.InProgress {
			if slices.Contains(waitingNames, name) {
				ro.InProgress = append(ro.InProgress, name)
				waitingNames = slices.DeleteFunc(waitingNames, func(n string) bool { return n == name })
			}
		}
	}
	if len(ro.Failed) == 0 {
		for len(ro.InProgress) < int(max(1, c.Spec.Database.RolloutBatchSize)) && len(waitingNames) > 0 {
			ro.InProgress, waitingNames = append(ro.InProgress, waitingNames[0]), waitingNames[1:]
		}
	}
	sort.Strings(ro.InProgress)
	ro.Waiting = int32(len(waitingNames))
	switch {
	case len(ro.Failed) > 0:
		return ro, verdict.Stalled(saasv1.ConditionDatabaseDefaultsRolledOut, "DatabaseFailed", fmt.Sprintf(
			"rollout of database defaults %s paused: RDS refused or failed the change for tenants %s (see their DatabaseReady; they serve as they were); change spec.database and its revision to go on; %d updated, %d waiting",
			rev, strings.Join(verdict.Few(ro.Failed, 5), ", "), ro.Updated, ro.Waiting))
	case len(ro.InProgress) > 0 || ro.Waiting > 0:
		return ro, verdict.Waiting(saasv1.ConditionDatabaseDefaultsRolledOut, "RollingOut", fmt.Sprintf(
			"rolling database defaults %s out: %d updated, modifying %s, %d waiting", rev, ro.Updated, strings.Join(verdict.Few(ro.InProgress, 5), ", "), ro.Waiting))
	}
	return ro, verdict.Ready(saasv1.ConditionDatabaseDefaultsRolledOut, "UpToDate", fmt.Sprintf("all %d databases have defaults %s", ro.Updated, rev))
}

// VersionsInUse are the app versions whose files the cell's pages load: the shared app's, the
// one it rolls out to, and each dedicated tenant's.
func VersionsInUse(c *saasv1.RegionCell, tenants []saasv1.Tenant) []string {
	set := map[string]bool{c.Spec.App.Version: true}
	if c.Status.AppVersion != "" {
		set[c.Status.AppVersion] = true
	}
	for i := range tenants {
		t := &tenants[i]
		if t.Spec.Tier == saasv1.TierDedicated && t.DeletionTimestamp.IsZero() && t.Status.Cell == c.Name {
			set[b.EffectiveAppVersion(t, c)] = true
			if v := ServingVersion(t); v != "" {
				set[v] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// ServingOrWanted is the version the shared app runs, or, before it runs one, the spec's.
func ServingOrWanted(c *saasv1.RegionCell) string {
	if c.Status.AppVersion != "" {
		return c.Status.AppVersion
	}
	return c.Spec.App.Version
}

// ReasonDefaultsRefused is DatabaseReady's reason when RDS refused a change the cell's defaults
// rollout asked for: the database serves as it was.
const ReasonDefaultsRefused = "DefaultsRefused"

// CellDriven says whether the change in flight on the tenant's database is the cell's defaults
// rollout (the revision it carries is the one the cell rolls out, and the cell named the tenant
// in its batch), not one the tenant's spec asked for.
func CellDriven(t *saasv1.Tenant, c *saasv1.RegionCell, eff saasv1.EffectiveDatabase) bool {
	ro := c.Status.DatabaseRollout
	return eff.ChangedAt != nil && eff.DefaultsRevision != "" && ro != nil && ro.Revision == eff.DefaultsRevision &&
		(slices.Contains(ro.InProgress, t.Name) || slices.Contains(ro.Failed, t.Name))
}

// InDefaultsRollout says whether the cell rolls its current database defaults out to the tenant
// now: its database carries another revision and the cell put it in the batch in progress.
func InDefaultsRollout(t *saasv1.Tenant, c *saasv1.RegionCell, had *saasv1.EffectiveDatabase) bool {
	ro := c.Status.DatabaseRollout
	rev := c.Spec.Database.Revision
	return rev != "" && had.DefaultsRevision != rev && ro != nil && ro.Revision == rev && slices.Contains(ro.InProgress, t.Name)
}

// MigratedTo says whether t's last migration, to version, succeeded.
func MigratedTo(t *saasv1.Tenant, version string) bool {
	lm := t.Status.LastMigration
	return lm != nil && lm.Version == version && lm.Succeeded
}

// ServingVersion is the newest version whose migration succeeded.
func ServingVersion(t *saasv1.Tenant) string {
	if lm := t.Status.LastMigration; lm != nil && lm.Succeeded {
		return lm.Version
	}
	return t.Status.AppVersion
}

// AssetsBaseURL is where tenant t's pages load their files from: the cell's CDN once the files
// of the version serving t are published there; otherwise the app's own /static.
func AssetsBaseURL(t *saasv1.Tenant, c *saasv1.RegionCell) string {
	if c.Status.AssetsURL == "" {
		return ""
	}
	version := ServingOrWanted(c)
	if t.Spec.Tier == saasv1.TierDedicated {
		version = ServingVersion(t)
	}
	if !slices.Contains(c.Status.AssetsVersions, version) {
		return ""
	}
	return c.Status.AssetsURL
}
