package assets

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// wire records what reaches the S3 server: every PUT's key and headers (gofakes3 keeps neither
// Cache-Control nor every header it is sent, so the test reads them off the wire).
type wire struct {
	mu   sync.Mutex
	puts []*http.Request
}

func (w *wire) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0 {
			w.mu.Lock()
			w.puts = append(w.puts, r.Clone(r.Context()))
			w.mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *wire) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.puts)
}

// s3Server is a real S3-protocol server (gofakes3) on loopback, and a client of it. plays wrap
// it with behaviours of AWS's S3 that gofakes3 lacks, each a test's visible stand-in.
func s3Server(t *testing.T, plays ...func(http.Handler) http.Handler) (*s3.Client, *wire) {
	t.Helper()
	w := &wire{}
	h := w.wrap(gofakes3.New(s3mem.New()).Server())
	for _, play := range plays {
		h = play(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("assets")}); err != nil {
		t.Fatal(err)
	}
	return client, w
}

func TestPublishTwiceAtOnceThenNothingMore(t *testing.T) {
	ctx := context.Background()
	client, w := s3Server(t)
	n := len(All())
	if n < 3 {
		t.Fatalf("%d files, want at least the stylesheet, the script and the logo", n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Publish(ctx, client, "assets", "static", "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := w.count(); got < n || got > 2*n {
		t.Errorf("%d uploads for %d files published twice at once, want between %d and %d", got, n, n, 2*n)
	}
	for _, r := range w.puts {
		if r.Header.Get("Cache-Control") != CacheControl || r.Header.Get("Content-Type") == "" {
			t.Errorf("PUT %s: Cache-Control %q, Content-Type %q", r.URL.Path, r.Header.Get("Cache-Control"), r.Header.Get("Content-Type"))
		}
	}
	// Every file is there, byte for byte, under its hashed name.
	var keys []string
	for _, f := range All() {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("assets"), Key: aws.String("static/" + f.Hashed)})
		if err != nil {
			t.Fatalf("%s: %v", f.Hashed, err)
		}
		body, _ := io.ReadAll(out.Body)
		_ = out.Body.Close()
		if string(body) != string(f.Body) || aws.ToString(out.ContentType) != f.ContentType {
			t.Errorf("%s: %d bytes of %s, want %d bytes of %s", f.Hashed, len(body), aws.ToString(out.ContentType), len(f.Body), f.ContentType)
		}
		keys = append(keys, f.Hashed)
	}
	// A third run finds everything and uploads nothing.
	before := w.count()
	p, err := Publish(ctx, client, "assets", "/static/", "")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	if len(p.Uploaded) != 0 || len(p.Present) != n || w.count() != before {
		t.Errorf("a third publication uploaded %v (%d PUTs), found %d of %d", p.Uploaded, w.count()-before, len(p.Present), n)
	}
}

func TestHandlerServesHashedFilesOnly(t *testing.T) {
	h := Handler()
	css := Hashed("style.css")
	cases := []struct {
		method, path, ifNoneMatch string
		code                      int
		contentType, cache        string
	}{
		{"GET", "/static/" + css, "", 200, "text/css; charset=utf-8", CacheControl},
		{"HEAD", "/static/" + Hashed("widget.js"), "", 200, "text/javascript; charset=utf-8", CacheControl},
		{"GET", "/static/" + Hashed("logo.svg"), "", 200, "image/svg+xml", CacheControl},
		{"GET", "/static/" + css, `"` + css + `"`, 304, "text/css; charset=utf-8", CacheControl},
		{"GET", "/static/style.css", "", 404, "", ""}, // only the hashed name: an unhashed one could change
		{"GET", "/static/../main.go", "", 404, "", ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.ifNoneMatch != "" {
			req.Header.Set("If-None-Match", c.ifNoneMatch)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code || (c.code != 404 && (rec.Header().Get("Content-Type") != c.contentType || rec.Header().Get("Cache-Control") != c.cache)) {
			t.Errorf("%s %s: %d %q %q, want %d %q %q", c.method, c.path, rec.Code, rec.Header().Get("Content-Type"),
				rec.Header().Get("Cache-Control"), c.code, c.contentType, c.cache)
		}
		if c.method == "HEAD" && rec.Body.Len() != 0 {
			t.Errorf("HEAD answered a body")
		}
	}
}

// withoutListBucket plays S3 answering a caller without s3:ListBucket: a HEAD of a key that is
// not there is 403, not 404 (S3 will not tell it whether the key exists).
func withoutListBucket(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			next.ServeHTTP(rw, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		code := rec.Code
		if code == http.StatusNotFound {
			code = http.StatusForbidden
		}
		rw.WriteHeader(code)
	})
}

// ownedBy plays S3's ExpectedBucketOwner check for a bucket of account: a call naming another
// account is refused with 403 before the bucket is touched. It counts calls that named none.
func ownedBy(account string, unnamed *int) func(http.Handler) http.Handler {
	var mu sync.Mutex
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			got := r.Header.Get("X-Amz-Expected-Bucket-Owner")
			if strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0 && got == "" {
				mu.Lock()
				*unnamed++
				mu.Unlock()
			}
			if got != "" && got != account {
				rw.WriteHeader(http.StatusForbidden)
				return
			}
			next.ServeHTTP(rw, r)
		})
	}
}

// The publisher role docs/operations.md gives has no s3:ListBucket: S3 answers 403 for a key
// that is not there, and publishing still uploads every file, then nothing more.
func TestPublishWithoutListBucket(t *testing.T) {
	ctx := context.Background()
	unnamed := 0
	client, w := s3Server(t, withoutListBucket, ownedBy("123456789012", &unnamed))
	p, err := Publish(ctx, client, "assets", "static", "123456789012")
	if err != nil {
		t.Fatalf("publishing with a role that may not list: %v", err)
	}
	if len(p.Uploaded) != len(All()) {
		t.Errorf("uploaded %d of %d files", len(p.Uploaded), len(All()))
	}
	before := w.count()
	p, err = Publish(ctx, client, "assets", "static", "123456789012")
	if err != nil || len(p.Present) != len(All()) || w.count() != before {
		t.Errorf("a second run: %v, found %d of %d, %d more uploads", err, len(p.Present), len(All()), w.count()-before)
	}
	if unnamed != 0 {
		t.Errorf("%d calls did not name the bucket's owner", unnamed)
	}
}

// A bucket of the same name in another account (deleted, then taken by someone else) is never
// read or written.
func TestPublishRefusesABucketOfAnotherAccount(t *testing.T) {
	unnamed := 0
	client, w := s3Server(t, ownedBy("999999999999", &unnamed))
	_, err := Publish(context.Background(), client, "assets", "static", "123456789012")
	if err == nil || !strings.Contains(err.Error(), "not owned by account 123456789012") {
		t.Errorf("publishing to another account's bucket: %v, want a refusal naming the account", err)
	}
	if w.count() != 0 {
		t.Errorf("%d objects written to another account's bucket", w.count())
	}
}

// Only these very bytes count as published: anything else under a file's name is written over.
func TestPublishReplacesOtherBytesUnderAFilesName(t *testing.T) {
	ctx := context.Background()
	client, _ := s3Server(t)
	f := All()[0]
	key := "static/" + f.Hashed
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("assets"), Key: aws.String(key),
		Body: strings.NewReader("alert('not ours')")}); err != nil {
		t.Fatal(err)
	}
	p, err := Publish(ctx, client, "assets", "static", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Uploaded) != len(All()) {
		t.Errorf("uploaded %v, want every file (the planted one included)", p.Uploaded)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("assets"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	_ = out.Body.Close()
	if string(body) != string(f.Body) {
		t.Errorf("%s still holds %q", key, body)
	}
}
