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
	cleanups []*func()
	// signalled: the cleanups are being run, and the process ends when they are done.
	signalled bool
}

// onInterrupt registers f to run if the harness is interrupted, and returns what runs it now and
// forgets it: `defer onInterrupt(f)()` cleans up on return and on a signal alike.
func onInterrupt(f func()) (runNow func()) {
	entry := &f
	interrupt.Lock()
	interrupt.cleanups = append(interrupt.cleanups, entry)
	interrupt.Unlock()
	return func() {
		interrupt.Lock()
		i := slices.Index(interrupt.cleanups, entry)
		if i >= 0 {
			interrupt.cleanups = slices.Delete(interrupt.cleanups, i, i+1)
		}
		interrupt.Unlock()
		if i >= 0 {
			f()
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
		cleanups := interrupt.cleanups
		interrupt.cleanups, interrupt.signalled = nil, true
		interrupt.Unlock()
		for _, f := range slices.Backward(cleanups) {
			(*f)()
		}
		os.Exit(130)
	}()
}

// exitAfterCleanups ends the process with code, unless a signal's cleanups are running: then it
// waits for them to end it (the run fails as they stop the control plane under it).
func exitAfterCleanups(code int) {
	interrupt.Lock()
	signalled := interrupt.signalled
	interrupt.Unlock()
	if signalled {
		select {}
	}
	os.Exit(code)
}
