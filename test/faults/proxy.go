// Package faults puts a fault-injecting proxy between the operator and a real API server, and
// checks that the operator converges, and keeps its promises, through the faults a production
// control plane has: conflicts, outages that cut watches, and a process killed mid-way.
package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Proxy forwards the operator's requests to the API server, and fails some on purpose.
type Proxy struct {
	URL string

	target *url.URL
	rp     *httputil.ReverseProxy
	srv    *http.Server

	mu sync.Mutex
	// conflictEvery answers every n-th write 409 Conflict, without forwarding it (0: none).
	conflictEvery int
	// down answers everything 503 and has cut every open watch.
	down bool
	// killAfter makes the proxy die for good after that many forwarded writes (0: never), as
	// the operator's process would at a SIGKILL: nothing it sends after that arrives.
	killAfter int
	dead      bool
	// readsAfterDeath lets a killed operator's reads through again (its writes stay dead), so
	// that the in-process manager standing for the killed process can finish stopping.
	readsAfterDeath bool
	writes          []string // the writes forwarded, "VERB path"
	refused         []string // the writes a killed operator still sent, refused
	// inFlightAtKill are the writes forwarded before the kill and still unanswered at it: cut,
	// they may or may not have reached etcd, as a killed process's last requests may or may not.
	inFlightAtKill []string
	seen           int // writes seen, forwarded or not
	cancels        map[*http.Request]context.CancelFunc
}

// Start proxies to the API server of cfg, on a loopback port.
func Start(cfg *rest.Config) (*Proxy, error) {
	target, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, err
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), target: target, cancels: map[*http.Request]context.CancelFunc{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		Transport:     transport,
		FlushInterval: -1, // watches stream
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Config is a client configuration that goes through the proxy, with the API server's identity
// left to the proxy.
func (p *Proxy) Config() *rest.Config {
	return &rest.Config{Host: p.URL, QPS: 200, Burst: 400}
}

// Close stops the proxy.
func (p *Proxy) Close() { _ = p.srv.Close() }

func isWrite(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
}

// counts says whether a write is one of the operator's writes to the objects it manages (not
// its Events or leases).
func counts(r *http.Request) bool {
	return isWrite(r) && !strings.Contains(r.URL.Path, "/events") && !strings.Contains(r.URL.Path, "/leases")
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.down || (p.dead && (!p.readsAfterDeath || isWrite(r))) {
		if p.dead && counts(r) {
			p.refused = append(p.refused, r.Method+" "+r.URL.Path)
		}
		p.mu.Unlock()
		http.Error(w, "the API server is unreachable (injected)", http.StatusServiceUnavailable)
		return
	}
	parent := r.Context()
	if counts(r) {
		p.seen++
		if p.conflictEvery > 0 && p.seen%p.conflictEvery == 0 {
			p.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,"message":"injected conflict"}`)
			return
		}
		p.writes = append(p.writes, r.Method+" "+r.URL.Path)
		if p.killAfter > 0 && len(p.writes) >= p.killAfter {
			p.dead = true // this write arrives; nothing after it does
			for req := range p.cancels {
				if counts(req) {
					p.inFlightAtKill = append(p.inFlightAtKill, req.Method+" "+req.URL.Path)
				}
			}
			p.cutAllLocked()
			// The write that killed it has left the process: it lands even when the test stops
			// the operator (cancelling its requests) a few milliseconds later.
			parent = context.WithoutCancel(parent)
		}
	}
	ctx, cancel := context.WithCancel(parent)
	r = r.WithContext(ctx)
	p.cancels[r] = cancel
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.cancels, r)
		p.mu.Unlock()
		cancel()
	}()
	p.rp.ServeHTTP(w, r)
}

func (p *Proxy) cutAllLocked() {
	for _, cancel := range p.cancels {
		cancel()
	}
}

// ConflictEvery answers every n-th write with 409 Conflict.
func (p *Proxy) ConflictEvery(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conflictEvery = n
}

// SetDown starts (cutting every open request, watches included) or ends an outage.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		p.cutAllLocked()
	}
}

// KillAfter makes the proxy die for good after n more forwarded writes.
func (p *Proxy) KillAfter(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killAfter = len(p.writes) + n
}

// LetReadsThrough forwards a killed operator's reads again, never its writes (and its
// Transport stays dead). A killed process is gone at once; the in-process manager that stands
// for it must still stop, and
// controller-runtime's manager stopped before its caches have synced does not return (it spins
// a core in runnableGroup.Start, kubernetes-sigs/controller-runtime#3440): with its reads
// refused for good, every kill left one such manager behind and each later kill ran slower.
func (p *Proxy) LetReadsThrough() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readsAfterDeath = true
}

// Transport is the operator's way out to everything but the API server (its webhook
// receivers): it dies with the proxy, as a killed process's every connection does.
func (p *Proxy) Transport() http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if p.Dead() {
			return nil, errors.New("the operator was killed (injected)")
		}
		return http.DefaultTransport.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Dead says whether the kill happened.
func (p *Proxy) Dead() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead
}

// Refused lists the writes the operator sent after it was killed, which never arrived.
func (p *Proxy) Refused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.refused...)
}

// InFlightAtKill lists the writes that were under way when the operator was killed: each may or
// may not have landed.
func (p *Proxy) InFlightAtKill() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.inFlightAtKill...)
}

// Writes lists the writes forwarded so far.
func (p *Proxy) Writes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.writes...)
}
