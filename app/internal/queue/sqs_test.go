package queue

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeSQS plays SQS's role for the SDK's JSON protocol (AmazonSQS.SendMessage, ReceiveMessage,
// DeleteMessage), holding messages in memory, so the app's use of the SDK is exercised end to
// end over HTTP. (The SQS-compatible server goaws v0.4.5 speaks only the older query protocol,
// which aws-sdk-go-v2's SQS client no longer sends.)
type fakeSQS struct {
	mu       sync.Mutex
	messages map[string]string // receipt handle -> body
	sent     int
	deleted  []string
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch target := r.Header.Get("X-Amz-Target"); target {
	case "AmazonSQS.SendMessage":
		f.sent++
		handle := "rh-" + strings.Repeat("x", f.sent)
		f.messages[handle] = in["MessageBody"].(string)
		_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": handle, "MD5OfMessageBody": md5hex(in["MessageBody"].(string))})
	case "AmazonSQS.ReceiveMessage":
		var msgs []map[string]string
		for h, b := range f.messages {
			msgs = append(msgs, map[string]string{"MessageId": h, "ReceiptHandle": h, "Body": b, "MD5OfBody": md5hex(b)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Messages": msgs})
	case "AmazonSQS.DeleteMessage":
		h := in["ReceiptHandle"].(string)
		delete(f.messages, h)
		f.deleted = append(f.deleted, h)
		_, _ = w.Write([]byte("{}"))
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"InvalidAction","message":"unexpected ` + target + `"}`))
	}
}

func TestSQSSendsReceivesAndDeletesWhatWasHandled(t *testing.T) {
	fake := &fakeSQS{messages: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := sqs.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	q := &SQS{Client: client, QueueURL: srv.URL + "/123456789012/work"}
	ctx := context.Background()
	for _, b := range []string{`{"type":"rating.created"}`, `{"type":"poison"}`} {
		if err := q.Send(ctx, []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	var handled []string
	n, err := q.Receive(ctx, func(_ context.Context, b []byte) error {
		if strings.Contains(string(b), "poison") {
			return io.ErrUnexpectedEOF // left for SQS to redeliver
		}
		handled = append(handled, string(b))
		return nil
	})
	if err != nil || n != 1 || len(handled) != 1 || handled[0] != `{"type":"rating.created"}` {
		t.Fatalf("received %d %v %v", n, handled, err)
	}
	if len(fake.deleted) != 1 || len(fake.messages) != 1 {
		t.Errorf("deleted %v, left %v: only the handled message may be deleted", fake.deleted, fake.messages)
	}
}

func TestInProcessQueueIsBoundedAndDrainsOnClose(t *testing.T) {
	var got []string
	var mu sync.Mutex
	block := make(chan struct{})
	q := NewInProcess(context.Background(), 2, func(_ context.Context, b []byte) error {
		<-block
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		return nil
	})
	sent := 0
	for i := 0; i < 10; i++ {
		if q.Send(context.Background(), []byte{byte('a' + i)}) == nil {
			sent++
		}
	}
	if sent < 2 || sent > 3 {
		t.Errorf("a queue of 2 (plus one in the worker) took %d", sent)
	}
	close(block)
	q.Close()
	if len(got) != sent {
		t.Errorf("drained %d of %d", len(got), sent)
	}
}
