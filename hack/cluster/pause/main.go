// Command pause holds a pod's namespaces open for containerd, like registry.k8s.io/pause: it
// sleeps until told to stop. Built here so the cluster needs no registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
