// Package queue carries work the app does after answering (rating events, mail): SQS in AWS
// (aws-sdk-go-v2), an in-process queue locally.
package queue

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Queue sends messages to be worked on.
type Queue interface {
	Send(ctx context.Context, body []byte) error
}

// Handler works on one message.
type Handler func(ctx context.Context, body []byte) error

// InProcess is a bounded in-memory queue worked by one goroutine; Send fails fast when full
// rather than blocking a request.
type InProcess struct {
	ch   chan []byte
	wg   sync.WaitGroup
	once sync.Once
}

// ErrFull is returned when the in-process queue cannot take more.
var ErrFull = errors.New("queue full")

// NewInProcess starts a worker calling handle for each message.
func NewInProcess(ctx context.Context, size int, handle Handler) *InProcess {
	q := &InProcess{ch: make(chan []byte, size)}
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		for body := range q.ch {
			_ = handle(ctx, body)
		}
	}()
	return q
}

func (q *InProcess) Send(_ context.Context, body []byte) error {
	select {
	case q.ch <- append([]byte(nil), body...):
		return nil
	default:
		return ErrFull
	}
}

// Close stops taking messages and waits for those taken to be worked on.
func (q *InProcess) Close() {
	q.once.Do(func() { close(q.ch) })
	q.wg.Wait()
}

// SQS sends to an SQS queue.
type SQS struct {
	Client   *sqs.Client
	QueueURL string
}

func (q *SQS) Send(ctx context.Context, body []byte) error {
	_, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.QueueURL), MessageBody: aws.String(string(body))})
	return err
}

// Receive works on up to 10 messages from the queue, deleting each one handle took.
func (q *SQS) Receive(ctx context.Context, handle Handler) (int, error) {
	out, err := q.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		return 0, err
	}
	done := 0
	for _, m := range out.Messages {
		if err := handle(ctx, []byte(aws.ToString(m.Body))); err != nil {
			continue // stays in the queue; SQS redelivers it after the visibility timeout
		}
		if _, err := q.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}
