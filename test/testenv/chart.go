package testenv

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/tenantops/tenant-operator/controllers/builders"
)

// ChartDir is the operator's Helm chart.
func ChartDir() string { return filepath.Join(Root(), "charts", "tenant-operator") }

// RenderChart is `helm template` through Helm's SDK: values checked against
// values.schema.json, every template rendered, the objects returned in file order.
func RenderChart(values map[string]any, release, namespace string) ([]*unstructured.Unstructured, error) {
	c, err := loader.Load(ChartDir())
	if err != nil {
		return nil, err
	}
	vals, err := chartutil.ToRenderValues(c, values, chartutil.ReleaseOptions{Name: release, Namespace: namespace, IsInstall: true},
		chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	files, err := engine.Render(c, vals)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var objs []*unstructured.Unstructured
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(files[n], "\n---") {
			obj := map[string]any{}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			if len(obj) > 0 {
				objs = append(objs, &unstructured.Unstructured{Object: obj})
			}
		}
	}
	return objs, nil
}

// ChartOperatorIdentity is the identity the chart's Deployment gives the operator (its
// --service-account and --namespace-data-role arguments), for running the operator in-process
// exactly as the chart configures it.
func ChartOperatorIdentity(objs []*unstructured.Unstructured) (builders.OperatorIdentity, error) {
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			args, _, _ := unstructured.NestedStringSlice(c.(map[string]any), "args")
			var id builders.OperatorIdentity
			for _, a := range args {
				switch k, v, _ := strings.Cut(a, "="); k {
				case "--service-account":
					id.Namespace, id.ServiceAccount, _ = strings.Cut(v, "/")
				case "--namespace-data-role":
					id.DataRole = v
				}
			}
			if id.ServiceAccount != "" && id.Namespace != "" && id.DataRole != "" {
				return id, nil
			}
		}
	}
	return builders.OperatorIdentity{}, fmt.Errorf("the chart's Deployment sets no --service-account and --namespace-data-role")
}
