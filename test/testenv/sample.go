package testenv

import (
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// SampleCell is config/samples' RegionCell without its notifications: no webhook receiver or
// SNS topic is reachable from here.
func SampleCell() (*saasv1.RegionCell, error) {
	raw, err := os.ReadFile(filepath.Join(Root(), "config", "samples", "saas_v1alpha1_regioncell.yaml"))
	if err != nil {
		return nil, err
	}
	cell := &saasv1.RegionCell{}
	if err := yaml.Unmarshal(raw, cell); err != nil {
		return nil, err
	}
	cell.Spec.Notifications = nil
	return cell, nil
}
