package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tenantops/tenant-operator/test/testenv"
)

// operatorUser is the identity the operator runs as, so that the audit log tells its writes apart.
const operatorUser = "tenant-operator"

// operator is the operator binary running in its own process, with its shipped defaults.
type operator struct {
	cmd     *exec.Cmd
	metrics string
	log     string
}

var started int

func startOperator(bin string, env *testenv.Env, work string) (*operator, error) {
	user, err := env.AddUser(envtest.User{Name: operatorUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	started++
	path := filepath.Join(work, fmt.Sprintf("operator-%d.kubeconfig", started))
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	op := &operator{metrics: "http://" + addr + "/metrics", log: filepath.Join(work, fmt.Sprintf("operator-%d.log", started))}
	logFile, err := os.Create(op.log)
	if err != nil {
		return nil, err
	}
	// Only what a kubeconfig run needs: every tuning flag keeps its shipped default.
	op.cmd = exec.Command(bin, "--kubeconfig", path, "--metrics-bind-address", addr, "--metrics-secure=false",
		"--health-probe-bind-address", "0")
	op.cmd.Stdout, op.cmd.Stderr = logFile, logFile
	if err := op.cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitFor(time.Minute, "the operator's metrics", func() (bool, error) {
		_, err := op.scrape()
		return err == nil, nil
	}); err != nil {
		op.stop()
		return nil, fmt.Errorf("%w; its log: %s", err, tail(op.log))
	}
	return op, nil
}

func (o *operator) stop() {
	if o.cmd == nil || o.cmd.Process == nil || o.cmd.ProcessState != nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = o.cmd.Process.Kill()
		<-done
	}
}

func tail(path string) string {
	raw, _ := os.ReadFile(path)
	if len(raw) > 3000 {
		raw = raw[len(raw)-3000:]
	}
	return string(raw)
}

// metrics is one scrape of the operator's metrics endpoint.
type metrics map[string]*dto.MetricFamily

func (o *operator) scrape() (metrics, error) {
	resp, err := http.Get(o.metrics) //nolint:gosec // the harness's own loopback address
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	return metrics(families), err
}

// settledHeap is the operator's live heap, the least of a few readings a second apart (a
// reading between collections counts garbage too).
func (o *operator) settledHeap() float64 {
	least := 0.0
	for range 5 {
		if m, err := o.scrape(); err == nil && (least == 0 || m.heap() < least) {
			least = m.heap()
		}
		time.Sleep(time.Second)
	}
	return least
}

// sum adds the values of a counter or gauge family's series whose labels include want.
func (m metrics) sum(name string, want map[string]string) float64 {
	f, ok := m[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, s := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case s.Counter != nil:
			total += s.GetCounter().GetValue()
		case s.Gauge != nil:
			total += s.GetGauge().GetValue()
		}
	}
	return total
}

func (m metrics) value(name string) float64 { return m.sum(name, nil) }

// writes are the requests the operator's clients sent that write: create, update, patch, delete.
func (m metrics) writes() float64 {
	total := 0.0
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		total += m.sum("rest_client_requests_total", map[string]string{"method": method})
	}
	return total
}

func (m metrics) reconciles(controller string) float64 {
	return m.sum("controller_runtime_reconcile_total", map[string]string{"controller": controller})
}

// heap is the live heap as of the last collection, or the heap in use on an older Go.
func (m metrics) heap() float64 {
	if v := m.value("go_gc_heap_live_bytes"); v > 0 {
		return v
	}
	return m.value("go_memstats_heap_inuse_bytes")
}

// serverCPU reads the CPU seconds the control plane's processes (this process's children) have
// used so far.
func serverCPU() map[string]float64 {
	out := map[string]float64{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15), counted after the closing parenthesis.
		s := string(raw)
		closing := strings.LastIndexByte(s, ')')
		if closing < 0 {
			continue
		}
		comm := s[strings.IndexByte(s, '(')+1 : closing]
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 13 || fields[1] != fmt.Sprint(os.Getpid()) || (comm != "kube-apiserver" && comm != "etcd") {
			continue
		}
		var utime, stime float64
		_, _ = fmt.Sscan(fields[11], &utime)
		_, _ = fmt.Sscan(fields[12], &stime)
		out[comm] += (utime + stime) / 100 // USER_HZ
	}
	return out
}
