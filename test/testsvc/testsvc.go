// Package testsvc starts real MariaDB and Redis servers on loopback, in a temporary directory,
// for the app's tests. `make test` installs the Debian packages mariadb-server and redis-server
// when they are missing (hack/test-deps.sh); run alone, a test that needs them fails with a
// message saying so.
package testsvc

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // the MySQL driver the app uses
)

// Server is a running database or cache server.
type Server struct {
	Addr string // host:port, on 127.0.0.1 unless asked otherwise
	cmd  *exec.Cmd
	dir  string
	log  string
}

// Stop ends the server and removes its files.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM) // mariadbd ignores SIGINT
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	_ = os.RemoveAll(s.dir)
}

func freePortOn(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func find(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin"} {
			if p := filepath.Join(dir, n); fileExists(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s not found: install the Debian packages mariadb-server and redis-server (make test does, as root: hack/test-deps.sh)", strings.Join(names, " / "))
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func waitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after %s", addr, within)
}

// StartRedis starts redis-server on a free loopback port, without persistence.
func StartRedis() (*Server, error) { return StartRedisWith(RedisOptions{}) }

// RedisOptions place a Redis server and give it TLS.
type RedisOptions struct {
	// Host is the address it listens on; 127.0.0.1 when empty.
	Host string
	// CertFile and KeyFile, when set, make it speak only TLS (as ElastiCache with encryption in
	// transit does); clients are not asked for certificates.
	CertFile, KeyFile string
}

// StartRedisWith starts redis-server on a free port of opts.Host, without persistence.
func StartRedisWith(opts RedisOptions) (*Server, error) {
	bin, err := find("redis-server")
	if err != nil {
		return nil, err
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port, err := freePortOn(host)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testsvc-redis-")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort(host, fmt.Sprint(port)), dir: dir, log: filepath.Join(dir, "redis.log")}
	listen := []string{"--port", fmt.Sprint(port)}
	if opts.CertFile != "" {
		listen = []string{"--port", "0", "--tls-port", fmt.Sprint(port), "--tls-cert-file", opts.CertFile,
			"--tls-key-file", opts.KeyFile, "--tls-auth-clients", "no"}
	}
	s.cmd = exec.Command(bin, append(append([]string{"--bind", host}, listen...), "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", s.log, "--protected-mode", "no")...)
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitTCP(s.Addr, 10*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// MariaDB is a running MariaDB server; RootDSN reaches it as root.
type MariaDB struct {
	*Server
	mu sync.Mutex
	n  int
}

// StartMariaDB initialises a data directory and starts mariadbd on a free loopback port.
func StartMariaDB() (*MariaDB, error) { return StartMariaDBOn("127.0.0.1") }

// StartMariaDBOn initialises a data directory and starts mariadbd on a free port of host.
func StartMariaDBOn(host string) (*MariaDB, error) {
	mariadbd, err := find("mariadbd", "mysqld")
	if err != nil {
		return nil, err
	}
	install, err := find("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, err
	}
	port, err := freePortOn(host)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testsvc-mariadb-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"--user=root"}
	}
	if out, err := exec.Command(install, append(args, user...)...).CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	s := &Server{Addr: net.JoinHostPort(host, fmt.Sprint(port)), dir: dir, log: filepath.Join(dir, "mariadb.log")}
	s.cmd = exec.Command(mariadbd, append([]string{"--no-defaults", "--datadir=" + data,
		"--bind-address=" + host, fmt.Sprintf("--port=%d", port), "--socket=" + filepath.Join(dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--log-error=" + s.log, "--skip-name-resolve",
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M", "--max-connections=500"}, user...)...)
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	m := &MariaDB{Server: s}
	if err := m.waitReady(30 * time.Second); err != nil {
		log, _ := os.ReadFile(s.log)
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return m, nil
}

// RootDSN is the go-sql-driver DSN of root, optionally for a database. It goes through the
// server's Unix socket: root may log in only from the machine itself, whichever address the
// server listens on.
func (m *MariaDB) RootDSN(db string) string {
	return fmt.Sprintf("root@unix(%s)/%s?parseTime=true&multiStatements=false", filepath.Join(m.dir, "mysqld.sock"), db)
}

func (m *MariaDB) waitReady(within time.Duration) error {
	if err := waitTCP(m.Addr, within); err != nil {
		return err
	}
	deadline := time.Now().Add(within)
	for {
		db, err := sql.Open("mysql", m.RootDSN(""))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Database is a fresh database with its own user and password, the way RDS gives a tenant one.
type Database struct {
	Host     string
	Port     int
	Name     string
	User     string
	Password string
}

// NewDatabase creates a database and a user that owns it.
func (m *MariaDB) NewDatabase(ctx context.Context, prefix string) (Database, error) {
	m.mu.Lock()
	m.n++
	n := m.n
	m.mu.Unlock()
	name := fmt.Sprintf("%s_%d", prefix, n)
	db, err := sql.Open("mysql", m.RootDSN(""))
	if err != nil {
		return Database{}, err
	}
	defer db.Close()
	d := Database{Name: name, User: name, Password: fmt.Sprintf("pw-%s-%d", prefix, time.Now().UnixNano())}
	host, port, _ := net.SplitHostPort(m.Addr)
	d.Host = host
	if d.Port, err = strconv.Atoi(port); err != nil {
		return Database{}, fmt.Errorf("MariaDB address %s: %w", m.Addr, err)
	}
	for _, stmt := range []string{
		"CREATE DATABASE `" + name + "`",
		"CREATE USER '" + name + "'@'%' IDENTIFIED BY '" + d.Password + "'",
		"GRANT ALL ON `" + name + "`.* TO '" + name + "'@'%'",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return Database{}, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return d, nil
}
