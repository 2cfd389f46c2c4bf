package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
	"sigs.k8s.io/yaml"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Git creates Tenants by committing their YAML to a Git repository that Argo CD or Flux applies,
// for teams whose clusters take changes only from Git. It reads (regions, Tenants, their
// progress) through the Kubernetes API like Direct, read-only. A subdomain is taken when a Tenant
// of that name is in the cluster or its file is in the repository (committed, not applied yet).
type Git struct {
	// Reader reads the cluster: Direct with a client allowed to get, list and watch only.
	Reader Direct
	// URL of the repository (https:// or ssh://), Branch to commit to, Dir the directory of the
	// Tenant files in it (<Dir>/<name>.yaml).
	URL, Branch, Dir string
	// Auth is how to push (http.BasicAuth with a token, or ssh.PublicKeys); nil for none.
	Auth transport.AuthMethod
	// Author of the commits.
	AuthorName, AuthorEmail string

	mu sync.Mutex // one commit at a time from this replica; others are met by a push's rejection
}

func (g *Git) Regions(ctx context.Context) ([]string, error) { return g.Reader.Regions(ctx) }

func (g *Git) Watch(ctx context.Context, name string) (<-chan *saasv1.Tenant, error) {
	// Committed, but Argo CD or Flux may not have applied it yet: wait for it to appear.
	for {
		t, err := g.Reader.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		if t != nil {
			return g.Reader.Watch(ctx, name)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func (g *Git) Get(ctx context.Context, name string) (*saasv1.Tenant, error) {
	if t, err := g.Reader.Get(ctx, name); err != nil || t != nil {
		return t, err
	}
	repo, err := g.clone(ctx)
	if err != nil {
		return nil, err
	}
	return g.read(repo, name)
}

// Create commits the Tenant's file and pushes it.
func (g *Git) Create(ctx context.Context, t *saasv1.Tenant) error {
	body, err := yaml.Marshal(manifest(t))
	if err != nil {
		return err
	}
	return g.change(ctx, t.Name, func(repo *git.Repository, wt *git.Worktree) (string, error) {
		if had, err := g.read(repo, t.Name); err != nil {
			return "", err
		} else if had != nil {
			return "", ErrTaken
		}
		if err := writeFile(wt, g.file(t.Name), body); err != nil {
			return "", err
		}
		return fmt.Sprintf("Tenant %s: signed up through the console (%s, %s)", t.Name, t.Spec.Region, t.Spec.Tier), nil
	})
}

// change clones the branch, lets edit change the worktree (it returns the commit message, or an
// error that ends the change), commits and pushes; a push another writer got in before is met by
// cloning again and editing on top of theirs, a few times, with jitter.
func (g *Git) change(ctx context.Context, name string, edit func(*git.Repository, *git.Worktree) (string, error)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var last error
	for attempt := 0; attempt < 6; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(50+rand.IntN(100*attempt)) * time.Millisecond) //nolint:gosec // jitter, not a secret
		}
		repo, err := g.clone(ctx)
		if err != nil {
			return err
		}
		wt, err := repo.Worktree()
		if err != nil {
			return err
		}
		msg, err := edit(repo, wt)
		if err != nil {
			return err
		}
		if _, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: g.AuthorName, Email: g.AuthorEmail, When: time.Now()}}); err != nil {
			return err
		}
		err = repo.PushContext(ctx, &git.PushOptions{Auth: g.Auth, RefSpecs: []config.RefSpec{g.refSpec()}})
		if err == nil {
			return nil
		}
		last = err
		if !errors.Is(err, git.ErrNonFastForwardUpdate) && !isRejected(err) {
			return fmt.Errorf("pushing %s: %w", name, err)
		}
	}
	return fmt.Errorf("pushing %s: others kept pushing first: %w", name, last)
}

// Edit sets spec fields of the Tenant's file (suspend, resume, move from the admin view) and
// pushes the commit. A Tenant with no file here is not the console's to change: ErrNotInGit.
func (g *Git) Edit(ctx context.Context, name string, spec map[string]any, author string) error {
	return g.change(ctx, name, func(_ *git.Repository, wt *git.Worktree) (string, error) {
		raw, err := readFile(wt.Filesystem, g.file(name))
		if errors.Is(err, os.ErrNotExist) {
			return "", ErrNotInGit
		} else if err != nil {
			return "", err
		}
		doc := map[string]any{}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return "", fmt.Errorf("%s: %w", g.file(name), err)
		}
		specOf, _ := doc["spec"].(map[string]any)
		if specOf == nil {
			specOf = map[string]any{}
		}
		for k, v := range spec {
			if b, isBool := v.(bool); isBool && !b {
				delete(specOf, k) // false is the default: the file says nothing, as a person would write it
				continue
			}
			specOf[k] = v
		}
		doc["spec"] = specOf
		body, err := yaml.Marshal(doc)
		if err != nil {
			return "", err
		}
		if err := writeFile(wt, g.file(name), body); err != nil {
			return "", err
		}
		return fmt.Sprintf("Tenant %s: %s, from the console's admin view (%s)", name, describeEdit(spec), author), nil
	})
}

// ErrNotInGit is a Tenant the repository has no file of.
var ErrNotInGit = errors.New("the repository has no file of this tenant: change it where it is declared")

func describeEdit(spec map[string]any) string {
	switch {
	case spec["suspended"] == true:
		return "suspended"
	case spec["suspended"] == false:
		return "resumed"
	case spec["cell"] != nil:
		return fmt.Sprintf("moved to cell %v", spec["cell"])
	}
	return "changed"
}

// manifest is the Tenant as a file in Git: no status, no server fields.
func manifest(t *saasv1.Tenant) map[string]any {
	meta := map[string]any{"name": t.Name}
	if len(t.Labels) > 0 {
		meta["labels"] = t.Labels
	}
	spec := map[string]any{"displayName": t.Spec.DisplayName, "subdomain": t.Spec.Subdomain, "region": t.Spec.Region,
		"tier": t.Spec.Tier, "adminEmail": t.Spec.AdminEmail}
	return map[string]any{"apiVersion": saasv1.GroupVersion.String(), "kind": "Tenant", "metadata": meta, "spec": spec}
}

func (g *Git) file(name string) string { return path.Join(g.Dir, name+".yaml") }

func (g *Git) clone(ctx context.Context) (*git.Repository, error) {
	repo, err := git.CloneContext(ctx, memory.NewStorage(), memfs.New(), &git.CloneOptions{
		// The whole branch: go-git cannot push from a shallow clone the remote moved past.
		URL: g.URL, Auth: g.Auth, ReferenceName: plumbing.NewBranchReferenceName(g.Branch), SingleBranch: true,
	})
	if err != nil {
		return nil, fmt.Errorf("cloning %s: %w", g.URL, err)
	}
	return repo, nil
}

// read is the Tenant of the repository's file for name, nil when there is none.
func (g *Git) read(repo *git.Repository, name string) (*saasv1.Tenant, error) {
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	raw, err := readFile(wt.Filesystem, g.file(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	t := &saasv1.Tenant{}
	if err := yaml.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("%s in %s: %w", g.file(name), g.URL, err)
	}
	return t, nil
}

func readFile(fs billy.Filesystem, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func writeFile(wt *git.Worktree, name string, body []byte) error {
	if err := wt.Filesystem.MkdirAll(path.Dir(name), 0o750); err != nil {
		return err
	}
	f, err := wt.Filesystem.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = wt.Add(name)
	return err
}

func (g *Git) refSpec() config.RefSpec {
	ref := plumbing.NewBranchReferenceName(g.Branch)
	return config.RefSpec(ref.String() + ":" + ref.String())
}

// isRejected is a push the server refused because the branch moved (another writer pushed).
func isRejected(err error) bool {
	msg := err.Error()
	// git's receive-pack says "failed to update ref" when another push moved the branch
	// between its check and its update.
	return strings.Contains(msg, "rejected") || strings.Contains(msg, "non-fast-forward") || strings.Contains(msg, "fetch first") ||
		strings.Contains(msg, "failed to update ref")
}
