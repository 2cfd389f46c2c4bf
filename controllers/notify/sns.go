package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// AWSSNS publishes to SNS topics with aws-sdk-go-v2, one client per region (taken from each
// topic's ARN), with the credentials of the default chain (IRSA or EKS Pod Identity in a cluster).
type AWSSNS struct {
	Config aws.Config
	// EndpointURL, when set, replaces the SNS endpoint (an SNS-compatible server for local runs).
	EndpointURL string

	mu      sync.Mutex
	clients map[string]*sns.Client
}

// Publish sends message to the topic, with attributes as String message attributes.
func (s *AWSSNS) Publish(ctx context.Context, topicARN, subject, message string, attributes map[string]string) error {
	region, err := regionOf(topicARN)
	if err != nil {
		return err
	}
	attrs := map[string]snstypes.MessageAttributeValue{}
	for k, v := range attributes {
		attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	if len(subject) > 100 {
		subject = subject[:100]
	}
	_, err = s.client(region).Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topicARN), Subject: aws.String(subject), Message: aws.String(message),
		MessageAttributes: attrs,
	})
	return err
}

func (s *AWSSNS) client(region string) *sns.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[region]; ok {
		return c
	}
	if s.clients == nil {
		s.clients = map[string]*sns.Client{}
	}
	c := sns.NewFromConfig(s.Config, func(o *sns.Options) {
		o.Region = region
		if s.EndpointURL != "" {
			o.BaseEndpoint = aws.String(s.EndpointURL)
		}
	})
	s.clients[region] = c
	return c
}

// regionOf reads the region field of an ARN: arn:partition:service:region:account:resource.
func regionOf(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[3] == "" {
		return "", fmt.Errorf("not an ARN with a region: %q", arn)
	}
	return parts[3], nil
}
