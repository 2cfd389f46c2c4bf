package builders

import (
	"sort"
)

func ptr[T any](v T) *T { return &v }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ptrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = ptr(ss[i])
	}
	return out
}

func setIf(dst *int32, v *int32) {
	if v != nil {
		*dst = *v
	}
}
