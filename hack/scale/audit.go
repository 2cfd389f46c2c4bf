package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// auditOperatorWrites makes the API server log, at the metadata level, every write the operator's
// user sends: what it wrote, by verb and kind, comes from the server's side of the wire.
func auditOperatorWrites(e *envtest.Environment, dir, logPath string) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	_ = os.WriteFile(policy, []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["`+operatorUser+`"]
  verbs: [create, update, patch, delete]
- level: None
`), 0o600)
	api := e.ControlPlane.GetAPIServer()
	api.Configure().Set("audit-policy-file", policy).Set("audit-log-path", logPath).Set("audit-log-mode", "batch")
}

// auditedWrites counts the operator's writes since start by "verb resource[/subresource]", and
// those that were status writes and Events.
func auditedWrites(logPath string, since time.Time) (byKind map[string]int, status, events float64) {
	byKind = map[string]int{}
	f, err := os.Open(logPath)
	if err != nil {
		return byKind, 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Stage          string    `json:"stage"`
			Verb           string    `json:"verb"`
			StageTimestamp time.Time `json:"stageTimestamp"`
			ObjectRef      struct {
				Resource    string `json:"resource"`
				Subresource string `json:"subresource"`
			} `json:"objectRef"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Stage != "ResponseComplete" || e.StageTimestamp.Before(since) {
			continue
		}
		kind := e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			kind += "/" + e.ObjectRef.Subresource
		}
		byKind[e.Verb+" "+kind]++
		switch {
		case e.ObjectRef.Subresource == "status":
			status++
		case e.ObjectRef.Resource == "events":
			events++
		}
	}
	return byKind, status, events
}
