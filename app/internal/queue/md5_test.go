package queue

import (
	"crypto/md5" //nolint:gosec // SQS checksums message bodies with MD5
	"encoding/hex"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
