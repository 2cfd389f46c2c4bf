package builders

import (
	"fmt"
	"testing"
)

func TestRecordSetAliasesTheCellsLoadBalancer(t *testing.T) {
	rs := RecordSet(testTenant("acme"), testCell())
	s := rs.Spec
	got := fmt.Sprint(rs.Namespace, " ", *s.Name, " ", *s.HostedZoneID, " ", *s.RecordType, " ",
		*s.AliasTarget.DNSName, " ", *s.AliasTarget.HostedZoneID, " ", *s.AliasTarget.EvaluateTargetHealth)
	if want := "tenant-acme acme ZONE A lb.example ZLB true"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
