package assets

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // S3's ETag is an MD5 of the bytes: it identifies content, it protects nothing
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 is what Publish needs of an S3 client.
type S3 interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Published says what a publication did.
type Published struct {
	Uploaded, Present []string
}

// Publish puts every file the bucket lacks under prefix, with its content type and immutable
// caching. It is safe to run twice at once: a file is only ever written with the same bytes
// under the same name, so a race writes it twice, identically.
//
// Every call names owner, the account the bucket must belong to (S3's ExpectedBucketOwner):
// a bucket of that name in another account, one deleted and taken by someone else, is refused
// by S3 with 403 before anything is read or written. A key is skipped only when it holds these
// very bytes (its ETag is their MD5, as S3 makes it for a single-part upload encrypted with
// S3-managed keys); anything else under the name is written over.
//
// A publisher allowed s3:GetObject and s3:PutObject but not s3:ListBucket (the policy
// docs/operations.md gives needs no listing) gets 403, not 404, for a key that is not there:
// S3 will not say whether it exists. That is taken as absent: PutObject is idempotent, and
// were the bucket not the owner's, PutObject is refused too.
func Publish(ctx context.Context, client S3, bucket, prefix, owner string) (Published, error) {
	var p Published
	var expected *string
	if owner != "" {
		expected = aws.String(owner)
	}
	for _, f := range files {
		key := strings.Trim(prefix, "/") + "/" + f.Hashed
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: expected})
		switch {
		case err == nil && sameBytes(head.ETag, f.Body):
			p.Present = append(p.Present, key)
			continue
		case err == nil, statusOf(err) == http.StatusNotFound, statusOf(err) == http.StatusForbidden:
		default:
			return p, fmt.Errorf("looking for %s: %w", key, err)
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(f.Body),
			ContentType: aws.String(f.ContentType), CacheControl: aws.String(CacheControl),
			ContentLength: aws.Int64(int64(len(f.Body))), ExpectedBucketOwner: expected,
		}); err != nil {
			if statusOf(err) == http.StatusForbidden {
				return p, fmt.Errorf("uploading %s: refused (403): the role may not write s3://%s/%s, or the bucket is not owned by account %s: %w", key, bucket, key, owner, err)
			}
			return p, fmt.Errorf("uploading %s: %w", key, err)
		}
		p.Uploaded = append(p.Uploaded, key)
	}
	return p, nil
}

// sameBytes says whether an object's ETag is the MD5 of body.
func sameBytes(etag *string, body []byte) bool {
	sum := md5.Sum(body) //nolint:gosec // see the import
	return etag != nil && strings.Trim(*etag, `"`) == hex.EncodeToString(sum[:])
}

// statusOf is the HTTP status of an S3 error (a HEAD answer has no body, so S3 says what went
// wrong with the status code alone), or 0.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
