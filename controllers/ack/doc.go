// Package ack reads the conditions every ACK controller writes on its resources.
//
// The RDS and Route53 controllers' Go modules are not available to this project, so rds/ and
// route53/ mirror just the fields the operator writes and reads; the envtest suites load the
// upstream CRDs, so every object built from these types is checked against the real schema.
// ElastiCache's own API module is used directly.
package ack
