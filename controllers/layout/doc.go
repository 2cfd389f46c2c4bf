// Package layout holds no code: its tests read the controllers' sources. One checks how their
// packages may import each other; one that every reason a condition can stall with is explained
// in docs/operations.md. The operator level (package controllers) composes the two reconcilers; each reconciler
// (controllers/tenant, controllers/regioncell) composes the leaf packages and talks to the other
// only through the API server; a leaf package imports no reconciler.
package layout
