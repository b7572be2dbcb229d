package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEMFDocument(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics(&buf, "Trailwarden", "verifier")
	m.SetClock(func() time.Time { return time.UnixMilli(1700000000000) })
	m.Count("DeliveredLogFiles", 2, "Region", "us-east-1")
	m.Count("DeliveredLogFiles", 3, "Region", "us-east-1")
	m.Count("SecurityFindings", 1)
	m.Property("requestId", "r-1")
	if got := m.Total("DeliveredLogFiles"); got != 5 {
		t.Fatalf("Total = %v", got)
	}
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one document per dimension set, got %d: %s", len(lines), buf.String())
	}
	var doc struct {
		Aws struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Service           string
		Region            string
		DeliveredLogFiles float64
		RequestID         string `json:"requestId"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
		t.Fatal(err)
	}
	// "Region=us-east-1,Service=verifier" sorts before "Service=verifier".
	cw := doc.Aws.CloudWatchMetrics[0]
	if doc.Aws.Timestamp != 1700000000000 || cw.Namespace != "Trailwarden" || doc.DeliveredLogFiles != 5 ||
		doc.Region != "us-east-1" || doc.Service != "verifier" || doc.RequestID != "r-1" ||
		strings.Join(cw.Dimensions[0], ",") != "Region,Service" || cw.Metrics[0].Name != "DeliveredLogFiles" || cw.Metrics[0].Unit != "Count" {
		t.Fatalf("bad EMF doc: %s", lines[0])
	}
	buf.Reset()
	if err := m.Flush(context.Background()); err != nil || buf.Len() != 0 {
		t.Fatalf("second flush must be empty: %q %v", buf.String(), err)
	}
}

func TestNewLoggerLevels(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(&buf, "warn")
	l.Info("hidden")
	l.Warn("shown", "account", "333333333333")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), `"account":"333333333333"`) {
		t.Fatalf("log = %s", buf.String())
	}
}
