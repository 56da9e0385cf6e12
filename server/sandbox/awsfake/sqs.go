package awsfake

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SQS fakes Amazon SQS (AWS JSON 1.0): SendMessage, ReceiveMessage with
// long polling and visibility timeouts, DeleteMessage,
// ChangeMessageVisibility and GetQueueUrl. Safe for concurrent use.
type SQS struct {
	mu     sync.Mutex
	now    func() time.Time
	queues map[string]*queue // by queue URL
	wake   chan struct{}     // closed and replaced when a message arrives
}

type message struct {
	id, body, receipt string
	visibleAt         time.Time
	receives          int
}

type queue struct {
	name   string
	msgs   []*message
	policy string // the queue's access policy (JSON; sqs_attributes.go)
}

// NewSQS returns a fake with no queues; now is its clock (nil: time.Now).
func NewSQS(now func() time.Time) *SQS {
	if now == nil {
		now = time.Now
	}
	return &SQS{now: now, queues: map[string]*queue{}, wake: make(chan struct{})}
}

// CreateQueue makes a queue reachable at url.
func (q *SQS) CreateQueue(url string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.queues[url]; !ok {
		q.queues[url] = &queue{name: url[strings.LastIndex(url, "/")+1:]}
	}
}

// Send enqueues a body, as SNS or EventBridge would; it returns the message id.
func (q *SQS) Send(url, body string) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu, ok := q.queues[url]
	if !ok {
		return "", false
	}
	m := &message{id: newID(), body: body, visibleAt: q.now()}
	qu.msgs = append(qu.msgs, m)
	close(q.wake)
	q.wake = make(chan struct{})
	return m.id, true
}

// Len reports how many messages a queue holds (visible or in flight).
func (q *SQS) Len(url string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qu, ok := q.queues[url]; ok {
		return len(qu.msgs)
	}
	return 0
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// sqsRequest is the body of an SQS call (the members the fake reads).
type sqsRequest struct {
	QueueURL            string `json:"QueueUrl"`
	QueueName           string
	MessageBody         string
	ReceiptHandle       string
	MaxNumberOfMessages int
	WaitTimeSeconds     int
	VisibilityTimeout   *int
	AttributeNames      []string
}

func (q *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var in sqsRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		sqsError(w, http.StatusBadRequest, "InvalidParameterValue", "malformed request")
		return
	}
	switch op {
	case "GetQueueUrl":
		found := q.queueURL(in.QueueName)
		if found == "" {
			sqsError(w, http.StatusBadRequest, "QueueDoesNotExist", "the specified queue does not exist")
			return
		}
		sqsJSON(w, map[string]string{"QueueUrl": found})
	case "SendMessage":
		id, ok := q.Send(in.QueueURL, in.MessageBody)
		if !ok {
			sqsError(w, http.StatusBadRequest, "QueueDoesNotExist", "the specified queue does not exist")
			return
		}
		sqsJSON(w, map[string]string{"MessageId": id, "MD5OfMessageBody": md5hex(in.MessageBody)})
	case "GetQueueAttributes":
		q.getQueueAttributes(w, in)
	case "ReceiveMessage":
		q.receive(w, r, in.QueueURL, in.MaxNumberOfMessages, in.WaitTimeSeconds, in.VisibilityTimeout)
	case "DeleteMessage", "ChangeMessageVisibility":
		ok, found := q.onReceipt(op, in)
		switch {
		case !ok:
			sqsError(w, http.StatusBadRequest, "QueueDoesNotExist", "the specified queue does not exist")
		case !found && op == "ChangeMessageVisibility":
			sqsError(w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "the receipt handle is not valid")
		default:
			sqsJSON(w, map[string]string{}) // deleting an unknown handle is not an error in SQS
		}
	default:
		sqsError(w, http.StatusBadRequest, "UnsupportedOperation", "the sandbox does not implement "+op)
	}
}

// queueURL answers the URL of the queue named name ("" for none).
func (q *SQS) queueURL(name string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var found string
	for url, qu := range q.queues {
		if qu.name == name {
			found = url
		}
	}
	return found
}

// onReceipt applies DeleteMessage or ChangeMessageVisibility to the
// message the request's receipt handle names; it answers whether the queue
// exists and whether a message has that handle.
func (q *SQS) onReceipt(op string, in sqsRequest) (queueExists, found bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu, ok := q.queues[in.QueueURL]
	if !ok {
		return false, false
	}
	for i, m := range qu.msgs {
		if m.receipt != "" && m.receipt == in.ReceiptHandle {
			if op == "DeleteMessage" {
				qu.msgs = append(qu.msgs[:i], qu.msgs[i+1:]...)
			} else if in.VisibilityTimeout != nil {
				m.visibleAt = q.now().Add(time.Duration(*in.VisibilityTimeout) * time.Second)
			}
			return true, true
		}
	}
	return true, false
}

func (q *SQS) receive(w http.ResponseWriter, r *http.Request, url string, max, wait int, visibility *int) {
	if max <= 0 {
		max = 1
	}
	if max > 10 {
		sqsError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxNumberOfMessages must be between 1 and 10")
		return
	}
	vis := 30 * time.Second
	if visibility != nil {
		vis = time.Duration(*visibility) * time.Second
	}
	deadline := time.Now().Add(time.Duration(min(wait, 20)) * time.Second)
	for {
		q.mu.Lock()
		qu, ok := q.queues[url]
		if !ok {
			q.mu.Unlock()
			sqsError(w, http.StatusBadRequest, "QueueDoesNotExist", "the specified queue does not exist")
			return
		}
		now := q.now()
		var out []map[string]string
		for _, m := range qu.msgs {
			if len(out) == max {
				break
			}
			if !m.visibleAt.After(now) {
				m.receipt, m.visibleAt = newID(), now.Add(vis)
				m.receives++
				out = append(out, map[string]string{"MessageId": m.id, "ReceiptHandle": m.receipt, "MD5OfBody": md5hex(m.body), "Body": m.body})
			}
		}
		wake := q.wake
		q.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) {
			sqsJSON(w, map[string]any{"Messages": out})
			return
		}
		t := time.NewTimer(min(time.Until(deadline), 250*time.Millisecond))
		select {
		case <-wake:
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

func sqsJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

func sqsError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", "AWS.SimpleQueueService."+code+";Sender")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": message})
}
