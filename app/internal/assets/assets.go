// Package assets holds the app's static files (its stylesheet, its progressive-enhancement
// script, its default logo), each named after a hash of its content, so that a file once
// published never changes and every cache may keep it for a year. The app serves them itself
// (Handler) and publishes them to S3 for the cell's CloudFront distribution (Publish).
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed files/*
var embedded embed.FS

// CacheControl is how long any cache may keep a file: forever, since its name changes with it.
const CacheControl = "public, max-age=31536000, immutable"

// File is one static file.
type File struct {
	// Name is the file's name in the source, such as style.css.
	Name string
	// Hashed is the name it is served and published under, such as style.2f6c1a9d03e4.css.
	Hashed      string
	ContentType string
	Body        []byte
}

var (
	files  []File
	byHash = map[string]*File{}
	byName = map[string]*File{}
)

func init() {
	entries, err := fs.ReadDir(embedded, "files")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := embedded.ReadFile("files/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		ct := mime.TypeByExtension(ext)
		if ext == ".js" {
			ct = "text/javascript; charset=utf-8"
		}
		files = append(files, File{Name: e.Name(), Hashed: strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext,
			ContentType: ct, Body: body})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for i := range files {
		byHash[files[i].Hashed] = &files[i]
		byName[files[i].Name] = &files[i]
	}
}

// All are every static file.
func All() []File { return append([]File(nil), files...) }

// Hashed is the served name of a source file; it panics on a name the app does not have, which
// the templates' tests catch.
func Hashed(name string) string {
	f, ok := byName[name]
	if !ok {
		panic(fmt.Sprintf("assets: no file %q", name))
	}
	return f.Hashed
}

// Handler serves the files by their hashed names, under any prefix the caller strips: GET and
// HEAD, with their content type and immutable caching; any other name is 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := byHash[path.Base(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("Cache-Control", CacheControl)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+f.Hashed+`"`)
		if r.Header.Get("If-None-Match") == `"`+f.Hashed+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", fmt.Sprint(len(f.Body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(f.Body)
	})
}
