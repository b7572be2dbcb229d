package orgevent

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDecideSQSEventFixture(t *testing.T) {
	rds, err := DecideSQSEvent(readFixture(t, filepath.Join(orgDir, "sqs-wrapped-create-account-result.json")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rds) != 2 {
		t.Fatalf("%d records, want 2", len(rds))
	}
	if rds[0].MessageID != "059f36b4-87a3-44ab-83d2-661975830a7d" || rds[0].Decision.Action != ActionEnable ||
		rds[0].Decision.Account != "333333333333" || rds[0].Err != nil {
		t.Errorf("record 0: %+v", rds[0])
	}
	if rds[1].MessageID != "2e1424d4-f796-459a-8184-9c92662be6da" || rds[1].Decision.Action != ActionReject || rds[1].Err == nil {
		t.Errorf("record 1: %+v", rds[1])
	}
}

func TestDecideSQSEventMalformed(t *testing.T) {
	for _, in := range []string{"", "{", "[]", "{}", `{"Records":null}`, `{"Records":{}}`, `{"Records":"x"}`} {
		if _, err := DecideSQSEvent([]byte(in)); err == nil {
			t.Errorf("DecideSQSEvent(%q): want an error", in)
		} else if _, ok := IsReject(err); !ok {
			t.Errorf("DecideSQSEvent(%q): err %v is not a reject", in, err)
		}
	}
	rds, err := DecideSQSEvent([]byte(`{"Records":[{"messageId":"m1","body":5},{"messageId":"m2","eventSource":"aws:kinesis","body":"{}"},{"messageId":"m3","body":""},[]]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rds) != 4 {
		t.Fatalf("%d records, want 4", len(rds))
	}
	for i, rd := range rds {
		if rd.Decision.Action != ActionReject || rd.Err == nil {
			t.Errorf("record %d: %+v", i, rd)
		}
	}
	if rds[1].MessageID != "m2" || !strings.Contains(rds[1].Decision.Reason, "aws:kinesis") {
		t.Errorf("record 1: %+v", rds[1])
	}
	if rds[2].MessageID != "m3" || !strings.Contains(rds[2].Decision.Reason, "empty input") {
		t.Errorf("record 2: %+v", rds[2])
	}
	if rds, err := DecideSQSEvent([]byte(`{"Records":[]}`)); err != nil || len(rds) != 0 {
		t.Errorf("empty Records: %v %v", rds, err)
	}
}

func TestDetectKindAndExplain(t *testing.T) {
	sqs := readFixture(t, filepath.Join(orgDir, "sqs-wrapped-create-account-result.json"))
	bare := readFixture(t, filepath.Join(orgDir, "create-account-result-succeeded.json"))
	tests := []struct {
		in   []byte
		want PayloadKind
	}{
		{sqs, KindSQS},
		{bare, KindEventBridge},
		{[]byte(`{"detail":{}}`), KindEventBridge},
		{[]byte(`{}`), KindUnknown},
		{[]byte(`{"Records":{}}`), KindUnknown},
		{[]byte(`nope`), KindUnknown},
	}
	for _, tt := range tests {
		if got := DetectKind(tt.in); got != tt.want {
			t.Errorf("DetectKind(%.40q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	rds, err := Explain(sqs)
	if err != nil || len(rds) != 2 {
		t.Fatalf("Explain(sqs) = %d records, %v", len(rds), err)
	}
	rds, err = Explain(bare)
	if err != nil || len(rds) != 1 || rds[0].MessageID != "" || rds[0].Decision.Action != ActionEnable {
		t.Fatalf("Explain(bare) = %+v, %v", rds, err)
	}
	rds, _ = Explain([]byte("{"))
	if len(rds) != 1 || rds[0].Decision.Action != ActionReject || rds[0].Err == nil {
		t.Fatalf("Explain(malformed) = %+v", rds)
	}
}
