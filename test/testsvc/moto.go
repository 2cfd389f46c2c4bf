package testsvc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// StartMoto starts moto_server, an AWS-protocol server (moto 5.2.1 with its server extra), on a
// free loopback port, for the AWS APIs ACK lacks (RDS snapshot copies across regions). Its
// state lives in the process: each server starts empty. URL is what BaseEndpoint takes.
func StartMoto() (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		// Where pyenv and pip put it when their directories are not on PATH.
		for _, p := range []string{"/root/.pyenv/shims/moto_server", "/usr/local/bin/moto_server"} {
			if fileExists(p) {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("moto_server not found: the disaster-recovery tests need moto 5.2.1 with its server extra (pip install 'moto[server]==5.2.1'); hack/test-deps.sh checks for it")
	}
	port, err := freePortOn("127.0.0.1")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testsvc-moto-")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", fmt.Sprint(port)), dir: dir, log: filepath.Join(dir, "moto.log")}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	logf.Close()
	if err := waitTCP(s.Addr, 30*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("moto_server: %w (its log: %s)", err, s.log)
	}
	return &Moto{Server: s, URL: "http://" + s.Addr}, nil
}

// Moto is a running moto_server.
type Moto struct {
	*Server
	URL string
}
