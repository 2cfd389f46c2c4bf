package apply

import "testing"

func TestContains(t *testing.T) {
	cases := []struct {
		name       string
		have, want any
		contains   bool
	}{
		{"equal scalars", "a", "a", true},
		{"different scalars", "a", "b", false},
		{"extra keys are someone else's", map[string]any{"a": "1", "b": "2"}, map[string]any{"a": "1"}, true},
		{"missing key", map[string]any{"b": "2"}, map[string]any{"a": "1"}, false},
		{"nested difference", map[string]any{"s": map[string]any{"x": int64(1)}}, map[string]any{"s": map[string]any{"x": int64(2)}}, false},
		{"list element with defaults", []any{map[string]any{"name": "c", "imagePullPolicy": "Always"}}, []any{map[string]any{"name": "c"}}, true},
		{"list of another length", []any{"a", "b"}, []any{"a"}, false},
		{"list order matters", []any{"b", "a"}, []any{"a", "b"}, false},
		{"type mismatch", map[string]any{}, []any{}, false},
		{"int64 vs float64 differ", int64(1), float64(1), false},
	}
	for _, c := range cases {
		if got := Contains(c.have, c.want); got != c.contains {
			t.Errorf("%s: Contains = %v, want %v", c.name, got, c.contains)
		}
	}
}

func TestPruneDropsEmptyValuesButKeepsZeros(t *testing.T) {
	in := map[string]any{
		"metadata": map[string]any{"creationTimestamp": nil, "name": "x"},
		"spec":     map[string]any{"strategy": map[string]any{}, "replicas": int64(0), "args": []any{}, "paused": false},
	}
	out := prune(in).(map[string]any)
	spec := out["spec"].(map[string]any)
	if _, ok := out["metadata"].(map[string]any)["creationTimestamp"]; ok {
		t.Error("null kept")
	}
	for _, k := range []string{"strategy", "args"} {
		if _, ok := spec[k]; ok {
			t.Errorf("empty %s kept", k)
		}
	}
	for _, k := range []string{"replicas", "paused"} {
		if _, ok := spec[k]; !ok {
			t.Errorf("%s dropped: zero values are opinions", k)
		}
	}
}
