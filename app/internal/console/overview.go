package console

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// CellRow is a cell as the platform team's overview shows it.
type CellRow struct {
	Name, Region, Phase string
	Tenants, Max        int32
	// Occupancy is Tenants of Max, in percent (0 when the cell sets no maximum).
	Occupancy int
	// MonthlyUSD and PerTenantUSD are the cell's cost estimate (status.cost).
	MonthlyUSD, PerTenantUSD float64
	// Alarms is the cell's AlarmsReady condition, in words ("" when the cell has none).
	Alarms string
}

// TenantRow is a tenant in the overview's lists.
type TenantRow struct {
	Name, Region, Cell, Tier, Phase string
	Suspended                       bool
	MonthlyUSD                      float64
}

// Overview is what the admin view's first page shows.
type Overview struct {
	Cells []CellRow
	// Phases counts the tenants in each phase; ByPhase lists them, phases in PhaseOrder.
	Phases     map[string]int
	ByPhase    map[string][]TenantRow
	PhaseOrder []string
}

func dollars(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// NewOverview summarises cells and tenants for the platform team.
func NewOverview(cells []saasv1.RegionCell, tenants []saasv1.Tenant) Overview {
	o := Overview{Phases: map[string]int{}, ByPhase: map[string][]TenantRow{}}
	for _, c := range cells {
		row := CellRow{Name: c.Name, Region: c.Spec.Region, Phase: c.Status.Phase, Tenants: c.Status.Tenants, Max: c.Spec.Capacity.MaxTenants}
		if row.Max > 0 {
			row.Occupancy = int(100 * row.Tenants / row.Max)
		}
		if cost := c.Status.Cost; cost != nil {
			row.MonthlyUSD, row.PerTenantUSD = dollars(cost.MonthlyUSD), dollars(cost.PerTenantUSD)
		}
		if a := meta.FindStatusCondition(c.Status.Conditions, saasv1.ConditionAlarmsReady); a != nil {
			row.Alarms = a.Reason + ": " + a.Message
		}
		o.Cells = append(o.Cells, row)
	}
	slices.SortFunc(o.Cells, func(a, b CellRow) int { return strings.Compare(a.Region+"/"+a.Name, b.Region+"/"+b.Name) })
	for _, t := range tenants {
		phase := t.Status.Phase
		if phase == "" {
			phase = saasv1.PhasePending
		}
		row := TenantRow{Name: t.Name, Region: t.Spec.Region, Cell: t.Status.Cell, Tier: t.Spec.Tier, Phase: phase, Suspended: t.Spec.Suspended}
		if t.Status.Cost != nil {
			row.MonthlyUSD = dollars(t.Status.Cost.MonthlyUSD)
		}
		o.Phases[phase]++
		o.ByPhase[phase] = append(o.ByPhase[phase], row)
	}
	// Those that need someone first.
	for _, p := range []string{saasv1.PhaseFailed, saasv1.PhaseFailedOver, saasv1.PhaseProvisioning, saasv1.PhasePending, saasv1.PhaseDeleting,
		saasv1.PhaseSuspended, saasv1.PhaseReady} {
		if o.Phases[p] > 0 {
			o.PhaseOrder = append(o.PhaseOrder, p)
		}
	}
	for p := range o.Phases {
		if !slices.Contains(o.PhaseOrder, p) {
			o.PhaseOrder = append(o.PhaseOrder, p)
		}
	}
	for _, rows := range o.ByPhase {
		slices.SortFunc(rows, func(a, b TenantRow) int { return strings.Compare(a.Name, b.Name) })
	}
	return o
}

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value float64
	// Text is the value as shown beside the bar.
	Text string
}

// BarChart draws horizontal bars as an inline SVG, scaled to the largest value (or to max when
// it is above 0, such as 100 for percentages): drawn on the server, so the page needs no script
// and the Content-Security-Policy stays strict.
func BarChart(title string, bars []Bar, max float64) template.HTML {
	const rowH, labelW, barW, textW = 26, 160, 300, 240
	top := 0.0
	for _, b := range bars {
		top = maxf(top, b.Value)
	}
	if max > 0 {
		top = max
	}
	h := rowH*len(bars) + 8
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		template.HTMLEscapeString(title), labelW+barW+textW, h, labelW+barW+textW, h)
	for i, b := range bars {
		y := 4 + i*rowH
		w := 0
		if top > 0 {
			w = int(float64(barW) * minf(b.Value, top) / top)
		}
		fmt.Fprintf(&sb, `<text x="0" y="%d" class="label">%s</text>`, y+16, template.HTMLEscapeString(b.Label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="18" class="bar"><title>%s: %s</title></rect>`, labelW, y+2, w,
			template.HTMLEscapeString(b.Label), template.HTMLEscapeString(b.Text))
		fmt.Fprintf(&sb, `<text x="%d" y="%d" class="value">%s</text>`, labelW+w+6, y+16, template.HTMLEscapeString(b.Text))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every text in it is escaped above
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func minf(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}
