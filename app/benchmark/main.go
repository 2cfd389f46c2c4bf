// Command benchmark measures the app on this machine, against a real MariaDB and Redis on
// loopback, and prints figures for docs/benchmarks.md:
//
//  1. requests per second and latency percentiles of a tenant-routed, cache-served GET
//     (/api/recommendations) next to a bare net/http handler answering the same bytes;
//
//  2. `recommend` throughput in ratings per second next to the same averages computed by one
//     SQL GROUP BY in MariaDB.
//
//     go run ./app/benchmark -ratings 500000 -duration 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tenantops/tenant-operator/app/internal/cache"
	"github.com/tenantops/tenant-operator/app/internal/queue"
	"github.com/tenantops/tenant-operator/app/internal/service"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
	"github.com/tenantops/tenant-operator/app/internal/web"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

func main() {
	ratings := flag.Int("ratings", 500000, "ratings to seed for the recommend run")
	items := flag.Int("items", 5000, "items to seed")
	duration := flag.Duration("duration", 10*time.Second, "how long each HTTP load runs")
	clients := flag.Int("clients", 32, "concurrent HTTP clients")
	flag.Parse()
	if err := run(*ratings, *items, *duration, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark:", err)
		os.Exit(1)
	}
}

func run(nRatings, nItems int, duration time.Duration, clients int) error {
	fmt.Printf("machine: %d CPUs, %s\n", runtime.NumCPU(), runtime.Version())
	db, err := testsvc.StartMariaDB()
	if err != nil {
		return err
	}
	defer db.Stop()
	rd, err := testsvc.StartRedis()
	if err != nil {
		return err
	}
	defer rd.Stop()
	ctx := context.Background()
	d, err := db.NewDatabase(ctx, "bench")
	if err != nil {
		return err
	}
	backends := cache.NewShared(func(addr string) cache.Backend { return cache.NewRedis(addr, false) })
	reg := tenant.NewRegistry(service.Opener(backends))
	defer reg.Close()
	reg.Upsert(tenant.Config{ID: "bench", DisplayName: "Bench", Hosts: []string{"bench.website.com"},
		DB:    tenant.DB{Driver: "mysql", Host: d.Host, Port: d.Port, Name: d.Name, User: d.User, Password: d.Password},
		Cache: tenant.Cache{Address: rd.Addr, KeyPrefix: "t:bench:"}})
	reg.MarkLoaded()
	t, _ := reg.Get("bench")
	res, err := t.Resources()
	if err != nil {
		return err
	}
	if _, err := res.Migrate(ctx); err != nil {
		return err
	}
	if err := seed(ctx, res, nItems, nRatings); err != nil {
		return err
	}

	// recommend, streamed, next to one GROUP BY.
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak, stopSampling := sampleHeap()
	r, err := res.Recommend(ctx, 10, 0, time.Now())
	stopSampling()
	if err != nil {
		return err
	}
	fmt.Printf("\nrecommend: %d ratings of %d items in %s = %.0f ratings/s (peak heap in use %.1f MiB above the %.1f MiB before)\n",
		r.Ratings, nItems, r.Duration.Round(time.Millisecond), float64(r.Ratings)/r.Duration.Seconds(),
		float64(*peak-base.HeapInuse)/(1<<20), float64(base.HeapInuse)/(1<<20))
	start := time.Now()
	rows, err := res.Store.DB.QueryContext(ctx, `SELECT r.item_id, i.category, COUNT(*), SUM(r.stars) FROM ratings r JOIN items i ON i.id = r.item_id GROUP BY r.item_id, i.category`)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	sqlTook := time.Since(start)
	fmt.Printf("one SQL GROUP BY in MariaDB: %d item averages in %s = %.0f ratings/s\n", n, sqlTook.Round(time.Millisecond), float64(r.Ratings)/sqlTook.Seconds())

	// HTTP: tenant-routed, cache-served GET next to a bare handler.
	app := web.New(reg, slog.New(slog.NewTextHandler(io.Discard, nil)), queue.NewInProcess(ctx, 10, func(context.Context, []byte) error { return nil }))
	body, err := fetch(app, "/api/recommendations?category=c7")
	if err != nil {
		return err
	}
	if !strings.Contains(string(body), `"source":"cache"`) {
		return fmt.Errorf("the GET under test is not served from the cache: %.200s", body)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})
	fmt.Printf("\nHTTP GET (%d bytes for the JSON), %d clients, %s each, keep-alive, on loopback; the in-process copy is checked against Redis every %s:\n",
		len(body), clients, duration, service.RecoFreshFor)
	var bareRPS float64
	for _, h := range []struct {
		name, path string
		handler    http.Handler
	}{
		{"bare net/http handler, same bytes", "/api/recommendations?category=c7", bare},
		{"app: /api/recommendations?category=c7", "/api/recommendations?category=c7", app},
		{"app: the HTML home page of c7", "/?category=c7", app},
	} {
		st, err := load(h.handler, h.path, duration, clients)
		if err != nil {
			return err
		}
		if bareRPS == 0 {
			bareRPS = st.rps
		}
		fmt.Printf("  %-42s %8.0f req/s (%.2fx bare)   p50 %6s   p99 %6s\n", h.name, st.rps, st.rps/bareRPS, st.p50, st.p99)
	}
	fmt.Printf("  in-process copy of the tenant's recommendations after these runs: %d bytes (one category; at most 256 are kept)\n", res.MemoBytes())
	return nil
}

// sampleHeap records the largest HeapInuse seen every 5 ms until stopped.
func sampleHeap() (*uint64, func()) {
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return &peak, func() { close(done); <-finished }
}

func seed(ctx context.Context, t *service.Tenant, nItems, nRatings int) error {
	start := time.Now()
	tx, err := t.Store.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i := 0; i < nItems; i++ {
		if _, err := tx.ExecContext(ctx, "INSERT INTO items (category, name, description) VALUES (?, ?, '')", fmt.Sprintf("c%d", i%20), fmt.Sprintf("item %d", i)); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 1000
	for done := 0; done < nRatings; done += batch {
		var sb strings.Builder
		args := make([]any, 0, batch*2)
		sb.WriteString("INSERT INTO ratings (item_id, customer, stars, review) VALUES ")
		for j := 0; j < batch && done+j < nRatings; j++ {
			if j > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?, 'c', ?, '')")
			item := 1 + rng.IntN(nItems)
			args = append(args, item, 1+(item+rng.IntN(3))%5)
		}
		if _, err := t.Store.DB.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	fmt.Printf("seeded %d items and %d ratings in %s\n", nItems, nRatings, time.Since(start).Round(time.Millisecond))
	return nil
}

func fetch(h http.Handler, path string) ([]byte, error) {
	srv, url, err := listen(h)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	req, _ := http.NewRequest("GET", url+path, nil)
	req.Host = "bench.website.com"
	for range 2 { // the first may fill the cache from the database
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `"source":"cache"`) {
			return b, nil
		}
	}
	return nil, fmt.Errorf("never served from the cache")
}

func listen(h http.Handler) (*http.Server, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return srv, "http://" + l.Addr().String(), nil
}

type stats struct {
	rps      float64
	p50, p99 time.Duration
}

// load runs clients against h for d, bounded in time and on loopback only.
func load(h http.Handler, path string, d time.Duration, clients int) (stats, error) {
	srv, url, err := listen(h)
	if err != nil {
		return stats{}, err
	}
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("GET", url+path, nil)
				req.Host = "bench.website.com"
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					mu.Lock()
					firstErr = fmt.Errorf("HTTP %d", resp.StatusCode)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return stats{}, firstErr
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
	return stats{rps: float64(len(lat)) / d.Seconds(), p50: pct(0.50), p99: pct(0.99)}, nil
}
