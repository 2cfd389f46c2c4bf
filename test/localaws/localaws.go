// Package localaws stands in for RDS and ElastiCache with real servers on this machine, for the
// demo and the end-to-end test: a MariaDB server per RDS instance identifier, made the way RDS
// makes one (the master user with the password from the operator's Secret, the database of
// spec.dbName), taken over by a DBInstance that adopts its identifier (its master password
// changed to the adopter's, as ACK's ModifyDBInstance does), and one Redis for every
// replication group. It writes into each ACK object only what the ACK
// controller would: its status, with the endpoint of the server that stands in for it.
package localaws

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"sync"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// Stores are the servers standing in for a region's RDS instances and ElastiCache groups.
type Stores struct {
	host  string
	Redis *testsvc.Server
	mu    sync.Mutex
	dbs   map[string]*testsvc.MariaDB // by RDS instance identifier
	owner map[string]string           // namespace/name of the DBInstance managing each identifier
	held  map[string]bool             // namespaces whose AWS is not played for now
}

// Hold stops playing AWS for a namespace's objects, as a slow RDS would, until Release.
func (s *Stores) Hold(namespace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[namespace] = true
}

// Release plays a held namespace again.
func (s *Stores) Release(namespace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, namespace)
}

func (s *Stores) isHeld(namespace string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[namespace]
}

// Start starts the Redis every replication group shares, listening on host; redis may ask for
// TLS (ElastiCache's encryption in transit).
func Start(host string, redis testsvc.RedisOptions) (*Stores, error) {
	redis.Host = host
	r, err := testsvc.StartRedisWith(redis)
	if err != nil {
		return nil, err
	}
	return &Stores{host: host, Redis: r, dbs: map[string]*testsvc.MariaDB{}, owner: map[string]string{}, held: map[string]bool{}}, nil
}

// Stop stops every server.
func (s *Stores) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, db := range s.dbs {
		db.Stop()
	}
	s.Redis.Stop()
}

// Database is the server standing in for the instance a DBInstance manages, if one was started.
func (s *Stores) Database(namespace, name string) *testsvc.MariaDB {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, o := range s.owner {
		if o == namespace+"/"+name {
			return s.dbs[id]
		}
	}
	return nil
}

// Instance is the server standing in for the RDS instance identifier, if one was started.
func (s *Stores) Instance(identifier string) *testsvc.MariaDB {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dbs[identifier]
}

// Play is one pass over the DBInstances and replication groups not yet synced: each gets its
// server and the status ACK would write. say tells what was played.
func (s *Stores) Play(ctx context.Context, c client.Client, say func(format string, a ...any)) {
	var dbs rds.DBInstanceList
	_ = c.List(ctx, &dbs)
	for i := range dbs.Items {
		db := &dbs.Items[i]
		if ack.ReadState(db.Status.Conditions).Synced || s.isHeld(db.Namespace) {
			continue
		}
		port, adopted, err := s.database(ctx, c, db)
		if err != nil {
			say("[local RDS] %s/%s: %v", db.Namespace, db.Name, err)
			continue
		}
		if testenv.PlayDBAvailableAt(ctx, c, db.Namespace, db.Name, s.host, int64(port)) == nil {
			if adopted {
				say("[local RDS] %s: adopted by %s/%s, its master password changed to that DBInstance's Secret's", *db.Spec.DBInstanceIdentifier, db.Namespace, db.Name)
			} else {
				say("[local RDS] %s: MariaDB on %s:%d, master user and password from the operator's Secret", *db.Spec.DBInstanceIdentifier, s.host, port)
			}
		}
	}
	_, portStr, _ := net.SplitHostPort(s.Redis.Addr)
	redisPort, _ := strconv.Atoi(portStr)
	var rgs ecv1.ReplicationGroupList
	_ = c.List(ctx, &rgs)
	for _, rg := range rgs.Items {
		if !ack.ReadState(rg.Status.Conditions).Synced && !s.isHeld(rg.Namespace) &&
			testenv.PlayCacheAvailableAt(ctx, c, rg.Namespace, rg.Name, s.host, int64(redisPort)) == nil {
			say("[local ElastiCache] %s/%s: Redis on %s", rg.Namespace, rg.Name, s.Redis.Addr)
		}
	}
}

// database starts (once per identifier) the MariaDB server of a DBInstance and sets it up as
// RDS would; a DBInstance adopting an identifier that has a server takes it over and sets the
// master password to its own.
func (s *Stores) database(ctx context.Context, c client.Client, db *rds.DBInstance) (port int, adopted bool, err error) {
	ref := db.Spec.MasterUserPassword
	if ref == nil || db.Spec.MasterUsername == nil || db.Spec.DBInstanceIdentifier == nil {
		return 0, false, fmt.Errorf("no identifier or master user")
	}
	pw := &corev1.Secret{}
	ns := ref.Namespace
	if ns == "" {
		ns = db.Namespace
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, pw); err != nil {
		return 0, false, err
	}
	password := string(pw.Data[ref.Key])
	id, key := *db.Spec.DBInstanceIdentifier, db.Namespace+"/"+db.Name
	s.mu.Lock()
	srv, owner := s.dbs[id], s.owner[id]
	s.mu.Unlock()
	switch {
	case srv == nil:
		if srv, err = testsvc.StartMariaDBOn(s.host); err != nil {
			return 0, false, err
		}
		if err := createMaster(ctx, srv, db, password); err != nil {
			srv.Stop()
			return 0, false, err
		}
	case owner != key && db.Annotations[ack.AnnotationAdoptionPolicy] != "":
		if err := setMasterPassword(ctx, srv, *db.Spec.MasterUsername, password); err != nil {
			return 0, false, err
		}
		adopted = true
	}
	s.mu.Lock()
	s.dbs[id], s.owner[id] = srv, key
	s.mu.Unlock()
	_, p, _ := net.SplitHostPort(srv.Addr)
	port, err = strconv.Atoi(p)
	return port, adopted, err
}

// setMasterPassword is RDS's ModifyDBInstance MasterUserPassword.
func setMasterPassword(ctx context.Context, srv *testsvc.MariaDB, user, password string) error {
	root, err := sql.Open("mysql", srv.RootDSN(""))
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := root.ExecContext(ctx, "ALTER USER '"+user+"'@'%' IDENTIFIED BY '"+password+"'"); err != nil {
		return fmt.Errorf("changing the master password: %w", err)
	}
	return nil
}

func createMaster(ctx context.Context, srv *testsvc.MariaDB, db *rds.DBInstance, password string) error {
	root, err := sql.Open("mysql", srv.RootDSN(""))
	if err != nil {
		return err
	}
	defer root.Close()
	user, dbName := *db.Spec.MasterUsername, "app"
	if db.Spec.DBName != nil {
		dbName = *db.Spec.DBName
	}
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS `" + dbName + "`",
		"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT ALL ON *.* TO '" + user + "'@'%'",
	} {
		if _, err := root.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("setting up the master user: %w", err)
		}
	}
	return nil
}
