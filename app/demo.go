package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tenantops/tenant-operator/app/internal/cache"
	"github.com/tenantops/tenant-operator/app/internal/service"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

// demoTenants prepares the embedded default: two tenants on SQLite files in dir, migrated,
// seeded once with a small catalogue and ratings, with recommendations computed.
func demoTenants(ctx context.Context, dir string) ([]tenant.Config, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	catalogues := map[string][][3]string{
		"acme": {{"tools", "Anvil", "Drops reliably."}, {"tools", "Rocket skates", "Fast, mostly."}, {"tools", "Giant magnet", "Attracts trouble."},
			{"snacks", "Bird seed", "Irresistible."}, {"snacks", "Earthquake pills", "Not for road runners."}},
		"globex": {{"gadgets", "Doomsday device", "Some assembly required."}, {"gadgets", "Hammock", "For district managers."},
			{"books", "Management for villains", "Bestseller."}, {"books", "Volcano lairs", "Location, location."}},
	}
	open := service.Opener(cache.NewShared(func(string) cache.Backend { return cache.NewMemory() }))
	var configs []tenant.Config
	for _, id := range []string{"acme", "globex"} {
		c := tenant.Config{ID: id, DisplayName: map[string]string{"acme": "Acme Corporation", "globex": "Globex"}[id],
			Hosts: []string{id + ".localhost"}, DB: tenant.DB{Driver: "sqlite", Name: filepath.Join(dir, id+".db")},
			Cache: tenant.Cache{KeyPrefix: "t:" + id + ":"}}
		t, err := open(c)
		if err != nil {
			return nil, err
		}
		if _, err := t.Migrate(ctx); err != nil {
			t.Close()
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		if _, total, err := t.Store.Items(ctx, "", 1, 1); err == nil && total == 0 {
			for i, it := range catalogues[id] {
				itemID, err := t.Store.AddItem(ctx, it[0], it[1], it[2])
				if err != nil {
					t.Close()
					return nil, err
				}
				for r := 0; r < 3+i*2; r++ {
					if _, err := t.Store.Rate(ctx, itemID, fmt.Sprintf("customer-%d", r), 1+(i+r*3)%5, "seeded review"); err != nil {
						t.Close()
						return nil, err
					}
				}
			}
			if _, err := t.Recommend(ctx, 3, 0, time.Now()); err != nil {
				t.Close()
				return nil, err
			}
		}
		t.Close()
		configs = append(configs, c)
	}
	return configs, nil
}
