// Package ack reads the conditions every ACK controller writes on its resources (ReadState,
// SyncedSince), and its sub-packages mirror the ACK kinds the operator writes.
//
// Most ACK controllers' Go modules are not served to this project, so each mirror holds just the
// fields the operator writes and reads, with the upstream CRD version it follows; the envtest
// suites load the upstream CRDs (../shared/ack-crds), so every object built from these types is
// checked against the real schema:
//
//   - rds/ (rds-controller v1.11.1): DBInstance, DBSubnetGroup
//   - route53/ (route53-controller v1.5.2): RecordSet
//   - cloudwatch/ (cloudwatch-controller v1.8.1): MetricAlarm
//   - sns/ (sns-controller v1.6.0): Topic, Subscription
//   - s3/ (s3-controller v1.10.0): Bucket
//   - cloudfront/ (cloudfront-controller v1.7.1): Distribution, OriginAccessControl
//
// ElastiCache's own API module (elasticache-controller v1.8.0: ReplicationGroup) is used
// directly.
package ack
