package assets

import (
	"bytes"
	"context"
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
func Publish(ctx context.Context, client S3, bucket, prefix string) (Published, error) {
	var p Published
	for _, f := range files {
		key := strings.Trim(prefix, "/") + "/" + f.Hashed
		_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			p.Present = append(p.Present, key)
			continue
		}
		if !isNotFound(err) {
			return p, fmt.Errorf("looking for %s: %w", key, err)
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(f.Body),
			ContentType: aws.String(f.ContentType), CacheControl: aws.String(CacheControl),
			ContentLength: aws.Int64(int64(len(f.Body))),
		}); err != nil {
			return p, fmt.Errorf("uploading %s: %w", key, err)
		}
		p.Uploaded = append(p.Uploaded, key)
	}
	return p, nil
}

// isNotFound says whether a HeadObject error is the object's absence (a HEAD answer has no body,
// so S3 says it with the status code alone).
func isNotFound(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
