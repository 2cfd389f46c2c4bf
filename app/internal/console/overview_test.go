package console

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestOverview(t *testing.T) {
	cells := []saasv1.RegionCell{
		{ObjectMeta: metav1.ObjectMeta{Name: "use1-a"}, Spec: saasv1.RegionCellSpec{Region: "us-east-1", Capacity: saasv1.CellCapacity{MaxTenants: 50}},
			Status: saasv1.RegionCellStatus{Tenants: 40, Cost: &saasv1.CellCost{CostEstimate: saasv1.CostEstimate{MonthlyUSD: "2000.00"}, PerTenantUSD: "50.00"},
				Conditions: []metav1.Condition{{Type: saasv1.ConditionAlarmsReady, Status: metav1.ConditionTrue, Reason: "InSync", Message: "5 alarms"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "euw1-a"}, Spec: saasv1.RegionCellSpec{Region: "eu-west-1"}, Status: saasv1.RegionCellStatus{Tenants: 3}},
	}
	tenants := []saasv1.Tenant{
		{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Status: saasv1.TenantStatus{Phase: saasv1.PhaseReady, Cost: &saasv1.CostEstimate{MonthlyUSD: "12.50"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: saasv1.TenantStatus{Phase: saasv1.PhaseReady}},
		{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Status: saasv1.TenantStatus{Phase: saasv1.PhaseFailed}},
		{ObjectMeta: metav1.ObjectMeta{Name: "new"}},
	}
	o := NewOverview(cells, tenants)
	if len(o.Cells) != 2 || o.Cells[0].Name != "euw1-a" || o.Cells[1].Occupancy != 80 || o.Cells[1].MonthlyUSD != 2000 || o.Cells[1].PerTenantUSD != 50 ||
		o.Cells[0].Occupancy != 0 || !strings.Contains(o.Cells[1].Alarms, "5 alarms") {
		t.Errorf("cells %+v", o.Cells)
	}
	if o.Phases[saasv1.PhaseReady] != 2 || o.Phases[saasv1.PhaseFailed] != 1 || o.Phases[saasv1.PhasePending] != 1 {
		t.Errorf("phases %v", o.Phases)
	}
	// Those that need someone come first; names sorted within a phase.
	if strings.Join(o.PhaseOrder, ",") != "Failed,Pending,Ready" || o.ByPhase[saasv1.PhaseReady][0].Name != "a" || o.ByPhase[saasv1.PhaseReady][1].MonthlyUSD != 12.5 {
		t.Errorf("order %v, ready %+v", o.PhaseOrder, o.ByPhase[saasv1.PhaseReady])
	}
}

func TestBarChart(t *testing.T) {
	svg := string(BarChart("occupancy", []Bar{{Label: "use1-a", Value: 80, Text: "80 %"}, {Label: "<evil>", Value: 150, Text: "150 %"}}, 100))
	if !strings.HasPrefix(svg, `<svg class="chart" role="img" aria-label="occupancy"`) || strings.Count(svg, "<rect") != 2 {
		t.Fatalf("%s", svg)
	}
	// Scaled to the maximum given: 80 % is 80 % of the width; above it is capped at the width.
	if !strings.Contains(svg, `width="240" height="18"`) || !strings.Contains(svg, `width="300" height="18"`) {
		t.Errorf("bar widths: %s", svg)
	}
	if strings.Contains(svg, "<evil>") || !strings.Contains(svg, "&lt;evil&gt;") {
		t.Errorf("a label is not escaped: %s", svg)
	}
	// Without a maximum, the largest value is the full width.
	if svg := string(BarChart("cost", []Bar{{Label: "a", Value: 10}, {Label: "b", Value: 40}}, 0)); !strings.Contains(svg, `width="75" height="18"`) {
		t.Errorf("unscaled: %s", svg)
	}
}
