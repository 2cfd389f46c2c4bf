package main

import (
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
)

// Interrupting a run (Ctrl-C, a CI timeout) must not leave a control plane and an operator
// running: they would take the machine's two cores from whatever runs next, and skew its figures.
var interrupt struct {
	sync.Mutex
	next     int
	cleanups map[int]func()
}

// onInterrupt registers f to run if the harness is interrupted, and returns what runs it now and
// forgets it: `defer onInterrupt(f)()` cleans up on return and on a signal alike.
func onInterrupt(f func()) (runNow func()) {
	interrupt.Lock()
	defer interrupt.Unlock()
	if interrupt.cleanups == nil {
		interrupt.cleanups = map[int]func(){}
	}
	id := interrupt.next
	interrupt.next++
	interrupt.cleanups[id] = f
	return func() {
		interrupt.Lock()
		g, ok := interrupt.cleanups[id]
		delete(interrupt.cleanups, id)
		interrupt.Unlock()
		if ok {
			g()
		}
	}
}

// stopOnSignal runs the registered cleanups, newest first, on SIGINT or SIGTERM, then exits.
func stopOnSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		interrupt.Lock()
		ids := make([]int, 0, len(interrupt.cleanups))
		for id := range interrupt.cleanups {
			ids = append(ids, id)
		}
		fns := interrupt.cleanups
		interrupt.cleanups = nil
		interrupt.Unlock()
		slices.Sort(ids)
		for _, id := range slices.Backward(ids) {
			fns[id]()
		}
		os.Exit(130)
	}()
}
